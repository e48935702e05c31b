#define _GNU_SOURCE
#include <sched.h>
#include <sys/prctl.h>
#include "process_control.h"

int halab_become_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int halab_enter_network_namespace(int fd) {
    return setns(fd, CLONE_NEWNET);
}
