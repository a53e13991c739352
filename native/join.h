#ifndef SANDBOX_JOIN_H
#define SANDBOX_JOIN_H
#include <sys/types.h>
#define JOIN_NS 7 /* user, mnt, ipc, uts, cgroup, net, pid */
void join_lock(const char *dir);
void join_unlock(void);
void join_forget_lock(void);
int join_open_member(int fds[JOIN_NS], const char *policy, int share_net, int share_pid);
void join_hold(pid_t child, int share_net, int share_pid, int fds[JOIN_NS]);
void join_update(int add, const int fds[JOIN_NS], pid_t drop, const char *policy);
void join_enter(const int fds[JOIN_NS]);
int join_others_alive(void);
int join_listen_spawn(void);
int join_connect_spawn(void);
#endif
