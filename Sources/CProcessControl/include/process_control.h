#ifndef HALAB_PROCESS_CONTROL_H
#define HALAB_PROCESS_CONTROL_H

/// prctl(PR_SET_CHILD_SUBREAPER, 1): prctl is variadic, which Swift cannot call.
int halab_become_subreaper(void);

/// setns(fd, CLONE_NEWNET) for the calling thread: Glibc's module does not export setns.
int halab_enter_network_namespace(int fd);

#endif
