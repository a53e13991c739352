// How a profile combines with what it extends: lists append, maps merge, the child wins on scalars.
// Removing inherited entries: "!NAME" in a string list (env.keep, env.unset, capabilities, home.share),
// null for a map value (env.set, limits fields, the whole limits or seccomp section), false for a device
// or socket, and {drop: PATH} in filesystem (applied after expansion, in lib/profile/build.ts).
import type { DbusDoc, Marked, ProfileDoc } from './document';

function mergeNames(base: Marked<string>[], top: Marked<string>[]): Marked<string>[] {
  let out = [...base];
  for (const e of top) {
    if (e.value.startsWith('!')) out = out.filter((b) => b.value !== e.value.slice(1));
    else out.push(e);
  }
  return out;
}

/** Name lists append (with "!NAME" removal); call and broadcast rules replace an inherited NAME's; null removes it. */
function mergeDbus(base: DbusDoc, top: DbusDoc): DbusDoc {
  const rules = (b: DbusDoc['call'], t: DbusDoc['call']): DbusDoc['call'] => {
    const out = { ...b };
    for (const [k, v] of Object.entries(t)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
    return out;
  };
  const merged: DbusDoc = {
    see: mergeNames(base.see, top.see),
    talk: mergeNames(base.talk, top.talk),
    own: mergeNames(base.own, top.own),
    call: rules(base.call, top.call),
    broadcast: rules(base.broadcast, top.broadcast),
    at: top.at,
  };
  const optional = top.optional ?? base.optional;
  if (optional) merged.optional = optional;
  return merged;
}

const pick = <T>(top: T | undefined, base: T | undefined): T | undefined => (top !== undefined ? top : base);

export function mergeDocs(base: ProfileDoc, top: ProfileDoc): ProfileDoc {
  const set = { ...base.env.set };
  for (const [k, v] of Object.entries(top.env.set)) {
    if (v.value === null) delete set[k];
    else set[k] = v;
  }

  let home = base.home;
  if (top.home) {
    let share = [...(base.home?.share ?? [])];
    for (const s of top.home.share) {
      if (s.remove) share = share.filter((b) => b.path !== s.path);
      else share.push(s);
    }
    home = { base: pick(top.home.base, base.home?.base), readOnly: pick(top.home.readOnly, base.home?.readOnly), share, at: top.home.at };
  }

  let limits = base.limits;
  if (top.limits === null) limits = undefined;
  else if (top.limits) {
    limits = { ...(base.limits ?? {}), at: top.limits.at };
    for (const key of ['memory', 'memorySwap', 'cpus', 'pids', 'mode'] as const) {
      const v = top.limits[key];
      if (v === null) delete limits[key];
      else if (v !== undefined) (limits as unknown as Record<string, unknown>)[key] = v;
    }
  }

  const merged: ProfileDoc = {
    file: top.file,
    extends: [],
    filesystem: [...base.filesystem, ...top.filesystem],
    env: {
      clear: pick(top.env.clear, base.env.clear),
      keep: mergeNames(base.env.keep, top.env.keep),
      set,
      unset: mergeNames(base.env.unset, top.env.unset),
    },
    capabilities: mergeNames(base.capabilities, top.capabilities),
    landlock: { readOnly: [...base.landlock.readOnly, ...top.landlock.readOnly], readWrite: [...base.landlock.readWrite, ...top.landlock.readWrite] },
    devices: { ...base.devices, ...top.devices },
    sockets: { ...base.sockets, ...top.sockets },
  };
  for (const k of ['description', 'fileArgs', 'network', 'pid', 'join', 'uid', 'gid', 'hostname', 'cwd', 'newSession', 'dieWithParent', 'asPid1'] as const) {
    const v = pick(top[k], base[k]);
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
  }
  // A profile is made for its own programs only: what it extends was made for others.
  if (top.programs) merged.programs = top.programs;
  if (home) merged.home = home;
  if (limits) merged.limits = limits;
  const dbus = top.dbus === undefined ? base.dbus : top.dbus === null ? null : base.dbus ? mergeDbus(base.dbus, top.dbus) : top.dbus;
  if (dbus) merged.dbus = dbus;
  const seccomp = top.seccomp === undefined ? base.seccomp : top.seccomp;
  if (seccomp) merged.seccomp = seccomp;
  if (merged.env.clear === undefined) delete merged.env.clear;
  return merged;
}

/** Merges a linearised chain (most basic first); a lone "!NAME" with nothing to remove is simply dropped. */
export function mergeChain(docs: ProfileDoc[]): ProfileDoc {
  const empty: ProfileDoc = { file: docs[0].file, extends: [], filesystem: [], env: { keep: [], set: {}, unset: [] }, capabilities: [], landlock: { readOnly: [], readWrite: [] }, devices: {}, sockets: {} };
  return docs.reduce((acc, d) => mergeDocs(acc, d), empty);
}
