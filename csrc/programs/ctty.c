/* ctty - a new session has no controlling terminal: /dev/tty stops opening, while the
 * descriptors already open on the terminal keep working.
 *
 * Usage: ctty. A child (a fresh pid leads no group, so its setsid cannot fail) asks three
 * things before and after its setsid(): its session; whether /dev/tty (the controlling
 * terminal) opens; and tcgetsid(1), the session whose controlling terminal stdout is.
 * Look for: on a terminal (--mode tty), /dev/tty "opened" and tcgetsid(1) equal to the
 * sid before; ENXIO and ENOTTY after, yet the "after" line still reaches the terminal
 * through fd 1. On a pipe or a file there was no controlling terminal to lose: ENXIO and
 * ENOTTY both times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"

static void ask(const char *when)
{
    int tty = open("/dev/tty", O_RDWR);
    const char *opened = tty < 0 ? strerrorname_np(errno) : "opened";
    pid_t owner = tcgetsid(1);
    char sid[32];

    snprintf(sid, sizeof sid, "%d", owner);
    printf("%s setsid(): pid %d, sid %d; /dev/tty: %s; tcgetsid(1): %s\n", when, getpid(),
           getsid(0), opened, owner < 0 ? strerrorname_np(errno) : sid);
    fflush(stdout);
    if (tty >= 0)
        close(tty);
}

int main(void)
{
    pid_t pid;

    if ((pid = fork()) < 0)
        err_exit("fork");
    if (pid == 0) {
        ask("before");
        if (setsid() < 0)
            err_exit_child("setsid");
        ask("after");
        exit(0);
    }
    if (waitpid(pid, NULL, 0) < 0)
        err_exit("waitpid");
    return 0;
}
