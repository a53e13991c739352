// The hostname rule, once for the command line and profiles: what sethostname(2) takes (at most
// __NEW_UTS_LEN = 64 bytes; native/plan.c refuses more) and what resolvers accept (letters, digits, "-"
// and ".", starting with a letter or digit).

/** The kernel's limit on a hostname, in bytes (__NEW_UTS_LEN). */
export const HOSTNAME_MAX = 64;

export const HOSTNAME_RULE = `a host name of 1 to ${HOSTNAME_MAX} letters, digits, "-" and ".", starting with a letter or digit`;

const HOSTNAME_RE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9.-]{0,${HOSTNAME_MAX - 1}}$`);

export function isHostname(s: string): boolean {
  return HOSTNAME_RE.test(s);
}
