#ifndef HALAB_PROCESS_CONTROL_H
#define HALAB_PROCESS_CONTROL_H

/// prctl(PR_SET_CHILD_SUBREAPER, 1): prctl is variadic, which Swift cannot call.
int halab_become_subreaper(void);

#endif
