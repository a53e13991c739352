#ifndef SANDBOX_INROOT_H
#define SANDBOX_INROOT_H
#include <stddef.h>
#define BASE "/tmp"                /* a tmpfs here holds the new root and data files until pivot_root */
#define NEWROOT BASE "/root"
/* Forget the new root's descriptor: called once a mount was attached, which may stack one over it. */
void newroot_forget(void);
int newroot_fd(void);
int open_in_root(const char *path, int flags);
/* Parents made on the way to a destination (bwrap(1)): 0755, less the group and other bits that the
 * operation's own mode leaves out, so a 0700 directory is not reachable through a 0755 one it implies. */
unsigned parent_mode_for(unsigned mode);
/* The mode of a directory this operation made, exactly (umask, an inherited set-group-ID bit); dirfd may be O_PATH. */
int set_made_mode(int dirfd, const char *name, unsigned mode);
/* mkdir -p inside the new root; returns an O_PATH fd of the directory or -1 with errno. Only what it makes
 * gets a mode (parents parent_mode, the last leaf_mode): a directory that exists, perhaps a host directory
 * bound there, is left as it is. */
int mkdir_modes(const char *path, unsigned parent_mode, unsigned leaf_mode);
int mkdir_in_root(const char *path, unsigned mode);
/* Split "/a/b/c" into a directory fd for "/a/b" (created) and "c". */
int parent_in_root_mode(const char *path, char *name, size_t namelen, unsigned parent_mode);
int parent_in_root(const char *path, char *name, size_t namelen);
/* Make the destination exist as a directory or a file, and return an O_PATH fd to it. A file made here is
 * a mount point, 0444 as bwrap makes them; parents get parent_mode. */
int make_dest_modes(const char *dst, int want_dir, unsigned mode, unsigned parent_mode);
int make_dest(const char *dst, int want_dir, unsigned mode);
#endif
