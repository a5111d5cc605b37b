/* proc_state.h - a process's state letter as /proc/PID/stat shows it (R, S, Z, T...).
 *
 * proc_state(pid) returns '-' when the process is gone (no /proc entry): a program can
 * show from inside what `ps -o stat` shows from outside.
 */
#ifndef PYLAB_PROC_STATE_H
#define PYLAB_PROC_STATE_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

static inline char proc_state(pid_t pid)
{
    char path[64], state = '-';
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r"))) {
        /* comm may hold spaces and parentheses: the state follows the LAST ')' */
        char buf[512];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        char *close = strrchr(buf, ')');
        state = close && close[1] == ' ' ? close[2] : '?';
        fclose(f);
    }
    return state;
}

#endif
