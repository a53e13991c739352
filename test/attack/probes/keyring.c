/* The kernel keyring is not namespaced: add_key, request_key and keyctl are refused. */
#include "probe.h"
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  report("add_key", syscall(SYS_add_key, "user", "sbx-attack", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */));
  report("request_key", syscall(SYS_request_key, "user", "sbx-attack", 0, 0));
  report("keyctl_join_session", syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, 0, 0, 0, 0));
  report("keyctl_read_user", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* KEY_SPEC_USER_KEYRING */, 0, 0, 0));
  return 0;
}
