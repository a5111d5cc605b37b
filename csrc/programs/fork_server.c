/* fork_server - one child per connection: without reaping, each finished client leaves a zombie.
 *
 * Usage: fork_server noreap|reap [MAX] [-]. Prints "port N" (127.0.0.1, an ephemeral
 * port), serves MAX connections (default 5), each in a forked child that echoes
 * upper-cased until the client closes. With "-" it then holds until a line or EOF on
 * stdin (also ending the serving early), so a driver can look at /proc meanwhile.
 * Look for: under "noreap", `ps -o pid,stat --ppid PID` shows one Z per finished client;
 * under "reap", a SIGCHLD handler collects them in a waitpid(-1, WNOHANG) loop: none.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "err.h"

static volatile sig_atomic_t reaped;

static void on_sigchld(int sig)
{
    int saved = errno;                  /* waitpid may change errno under main's feet */
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)  /* one signal may stand for many children */
        reaped++;
    errno = saved;
}

static void serve(int lfd, int conn)    /* in the child: echo until the client closes */
{
    char buf[1024];
    ssize_t n;

    close(lfd);
    while ((n = read(conn, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = toupper((unsigned char)buf[i]);
        if (write(conn, buf, n) != n)
            err_exit_child("write");
    }
    _exit(0);
}

int main(int argc, char *argv[])
{
    int reap = argc > 1 && strcmp(argv[1], "reap") == 0;
    int max = argc > 2 ? atoi(argv[2]) : 5, served = 0, shown = 0;
    int hold = argc > 3 && argv[3][0] == '-';
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
    char line[64];

    if (argc < 2 || (!reap && strcmp(argv[1], "noreap") != 0) || max < 1) {
        fprintf(stderr, "usage: %s noreap|reap [MAX>0] [-]\n", argv[0]);
        return 2;
    }
    if (reap && (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGCHLD, &sa, NULL) == -1))
        err_exit("sigaction");
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, len) == -1 || listen(lfd, 128) == -1
        || getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)   /* port 0: any free one */
        err_exit("socket/bind/listen");
    setvbuf(stdout, NULL, _IOLBF, 0);   /* each line out at once, for the driver; and so a */
    printf("port %d\n", ntohs(addr.sin_port));  /* fork copies no pending output */

    struct pollfd fds[2] = { { .fd = lfd, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
    while (served < max) {
        int ready = poll(fds, hold ? 2 : 1, -1);
        if (ready == -1 && errno != EINTR)  /* SIGCHLD interrupts poll even with SA_RESTART */
            err_exit("poll");
        if (ready > 0 && hold && fds[1].revents)
            break;                      /* a line or EOF on stdin: stop early */
        int conn = ready > 0 && fds[0].revents ? accept(lfd, NULL, NULL) : -1;
        if (conn != -1) {               /* -1: EINTR, or a client that gave up */
            pid_t pid = fork();
            if (pid == -1)
                err_exit("fork");
            if (pid == 0)
                serve(lfd, conn);
            close(conn);                /* the child has its own copy */
            printf("served %d (child %d)\n", ++served, (int)pid);
        }
        if (reaped != shown)
            printf("reaped %d\n", shown = reaped);
    }
    close(lfd);
    if (hold && served == max)          /* the zombies (or not) stay for the driver to count */
        (void)!fgets(line, sizeof line, stdin);
    printf("exiting: served %d, reaped %d\n", served, (int)reaped);
    return 0;
}
