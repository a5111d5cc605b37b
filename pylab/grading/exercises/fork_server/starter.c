/* fork_server.c - a forking echo server. See fork_server.md.
 * Usage: ./fork_server noreap|reap [MAX] [-]
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t reaped;

static void on_sigchld(int sig)
{
    (void)sig;
    /* TODO: reap in a waitpid(-1, NULL, WNOHANG) loop, reaped++ each (save/restore errno) */
}

int main(int argc, char *argv[])
{
    int reap = argc > 1 && strcmp(argv[1], "reap") == 0;
    int max = argc > 2 ? atoi(argv[2]) : 5, served = 0;

    (void)reap, (void)max, (void)on_sigchld;
    /* TODO: reap mode: sigaction(SIGCHLD, on_sigchld, SA_RESTART) */
    /* TODO: socket, bind 127.0.0.1 port 0, listen, getsockname; printf("port %d\n", port); fflush */
    /* TODO: poll the listening socket (and stdin with "-"); accept, fork a child that echoes upper-cased
     *       until the client closes, then _exit(0); parent: close(conn), printf("served %d (child %d)\n") */
    /* TODO: with "-" and all served: wait for a line (or EOF) on stdin */
    printf("exiting: served %d, reaped %d\n", served, (int)reaped);
    return 0;
}
