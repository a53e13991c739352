// The one place sandbox makes a descriptor from bytes: a memfd (through koffi), filled, its offset left at 0
// where the reader (the C stage, a helper) starts. Callers that only decide (lib/plan, lib/profile) ask for
// contents through a DataFd function passed in; lib/cli passes this module's.
import * as fs from 'fs';
import { SandboxError } from '../errors';
import { libc } from './libc';

/** Linux's MFD_CLOEXEC: the descriptor closes at execve (a helper given it by spawn gets its own copy). */
export const MFD_CLOEXEC = 1;

/** A descriptor that reads back `bytes`; `name` is the memfd's name (in /proc/PID/fd and in errors). */
export type DataFd = (name: string, bytes: Buffer) => number;

/**
 * A memfd holding bytes. Without cloexec it is inherited across execve (the sandbox's data descriptors, the
 * plan); with it, only where it is handed over explicitly.
 */
export function memfdWith(name: string, bytes: Buffer, opts: { cloexec?: boolean } = {}): number {
  const c = libc();
  const fd = c.memfd_create(name, opts.cloexec ? MFD_CLOEXEC : 0);
  if (fd < 0) throw SandboxError.errno(`memfd_create ${name}`, c.errno());
  try {
    // positional writes leave the offset at 0
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off, off);
  } catch (e) {
    fs.closeSync(fd);
    throw SandboxError.wrap(`writing memfd ${name}`, e);
  }
  return fd;
}

/** The DataFd lib/cli hands to the deciding layers: each call a new inherited memfd. */
export const inheritedMemfd: DataFd = (name, bytes) => memfdWith(name, bytes);
