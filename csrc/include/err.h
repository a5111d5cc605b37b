/* err.h - the lab's one error idiom (after TLPI's errExit / err_exit).
 *
 * err_exit(): report the failed call with strerror(errno) and leave with exit(1).
 * err_exit_child(): the same for a forked child; it leaves with _exit(1) so the
 * parent's stdio buffers, copied by fork, are not flushed a second time.
 */
#ifndef PYLAB_ERR_H
#define PYLAB_ERR_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void err_exit(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(1);
}

static inline void err_exit_child(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    _exit(1);
}

#endif
