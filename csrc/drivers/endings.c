/* endings - how a C process ends decides whether its stdout buffer is written and its atexit handlers run.
 *
 * Usage: endings HOW [CODE]; HOW is return, exit, _exit, abort, wait (wait for a
 * signal from outside) or fork-exit (a forked child calls exit, the parent returns).
 * Before it ends, stdout holds "<c-line>\n<c-tail>": the tail has no newline, so it is
 * still in the buffer on a terminal too; on a pipe or a file the line is as well. An
 * atexit handler prints "<c-atexit>". Notes go to stderr, which is unbuffered:
 * "@lab ran c-atexit main|child", "@lab ready" (now send a signal), "@lab wait STATUS".
 * Look for: which markers reach stdout, and in what order (`pylab compare` runs this
 * for tty, pipe and file). exit and return flush after the handler; _exit, abort and
 * a signal write nothing; a forked child's exit writes the parent's copied buffer too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

static pid_t main_pid;

static void on_exit_print(void)
{
    /* the stderr note says who ran the handler even when stdout is lost */
    fprintf(stderr, "@lab ran c-atexit %s\n", getpid() == main_pid ? "main" : "child");
    printf("<c-atexit>");
}

int main(int argc, char *argv[])
{
    const char *how = argc > 1 ? argv[1] : "exit";
    int code = argc > 2 ? atoi(argv[2]) : 0;

    main_pid = getpid();
    if (atexit(on_exit_print) != 0)
        err_exit("atexit");
    printf("<c-line>\n");
    printf("<c-tail>");

    if (strcmp(how, "return") == 0)
        return code;
    if (strcmp(how, "exit") == 0)
        exit(code);
    if (strcmp(how, "_exit") == 0)
        _exit(code);
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "wait") == 0) {
        fprintf(stderr, "@lab ready\n");
        for (;;)
            pause(); /* the default action of SIGTERM or SIGKILL ends us here */
    }
    if (strcmp(how, "fork-exit") == 0) {
        int status;
        pid_t pid = fork();
        if (pid == -1)
            err_exit("fork");
        if (pid == 0) {
            printf("<child>"); /* into the child's copy of the buffer */
            exit(code);
        }
        if (waitpid(pid, &status, 0) == -1)
            err_exit("waitpid");
        fprintf(stderr, "@lab wait %d\n", status);
        printf("<parent>");
        return 0;
    }
    fprintf(stderr, "endings: unknown HOW '%s' (return, exit, _exit, abort, wait, fork-exit)\n", how);
    _exit(2); /* leave the buffer and handler out of a usage error */
}
