#ifndef CMOSS_LAUNCHER_H
#define CMOSS_LAUNCHER_H

/// unshare(CLONE_NEWNS): a private mount namespace for the calling process. Glibc's Swift module does not export
/// unshare (it needs _GNU_SOURCE), hence this one-line wrapper. Returns 0, or -1 with errno set.
int moss_unshare_mount_namespace(void);

#endif
