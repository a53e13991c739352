/* What both halves of the plan cache compute the same way: the launcher when it checks an entry (plan-cache.c), the
 * monitor when it writes the entry a miss handed over (plan-cache-keep.c). lib/host/plan-cache.ts is the third copy. */
#ifndef SANDBOX_PLAN_CACHE_STATE_H
#define SANDBOX_PLAN_CACHE_STATE_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over little-endian 32-bit words, the last padded with zero bytes (checksum in lib/host/plan-cache.ts) */
uint32_t plan_cache_checksum(const unsigned char *p, size_t n);

/* The state of a path as the writer's stateOf prints it: s stat, l lstat, c contents, r realpath, a access, k readlink. */
void plan_cache_state(char kind, const char *p, int mode, char *out, size_t len);

/* The key entries are signed with (macKey in lib/host/plan-cache.ts): /tmp/sandbox-UID/plan-key, the caller's, 0600,
 * 32 bytes, in the caller's directory closed to others; -1 without one (no entry can be trusted or written then).
 * dir gets the directory's path. */
int plan_cache_secret(unsigned char secret[32], char *dir, size_t dirlen);

/* A line on stderr, "sandbox: plan cache: ...", when SANDBOX_CACHE_DEBUG is set (not 0). */
__attribute__((format(printf, 1, 2))) void plan_cache_say(const char *fmt, ...);

/* This boot's id, without its newline; -1 when it can't be read. */
int plan_cache_boot_id(char *out, size_t len);

#endif
