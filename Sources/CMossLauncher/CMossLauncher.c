#define _GNU_SOURCE
#include <sched.h>
#include "CMossLauncher.h"

int moss_unshare_mount_namespace(void) {
    return unshare(CLONE_NEWNS);
}
