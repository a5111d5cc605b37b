/* netjoin - hand the grader a socket that lives in a sandbox's network namespace.
 *
 * Not a lesson: pylab/grading/sandbox.py runs it when a check must talk to a server a
 * submission runs (the sandbox has its own loopback, unreachable from outside).
 *   netjoin PID FD     joins the network namespace of PID, makes an
 *                      unconnected TCP socket there and sends it over the unix socket FD
 *                      (SCM_RIGHTS). A socket keeps the namespace it was made in, so the
 *                      grader then connects it to 127.0.0.1:PORT of the sandbox.
 * Joining a user namespace needs a single-threaded process: hence a small program, not
 * a thread of the grader. Exit 0 when the socket was sent; 1 with a line on stderr if not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef NS_GET_USERNS
#define NS_GET_USERNS _IO(0xb7, 0x1)       /* linux/nsfs.h, which musl does not ship */
#endif

static int fail(const char *what)
{
    fprintf(stderr, "netjoin: %s: %s\n", what, strerror(errno));
    return 1;
}

/* Join PID's network namespace: directly when we may (root), else first the user
 * namespace that owns it (NS_GET_USERNS: bwrap nests a second user namespace inside
 * the one owning the network, so PID's own user namespace would be the wrong one). */
static int join_net(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
    int net = open(path, O_RDONLY | O_CLOEXEC);
    if (net < 0)
        return -1;
    if (setns(net, CLONE_NEWNET) == 0)
        return 0;
    int owner = ioctl(net, NS_GET_USERNS);
    if (owner < 0 || setns(owner, CLONE_NEWUSER) < 0 || setns(net, CLONE_NEWNET) < 0)
        return -1;
    close(owner);
    close(net);
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: netjoin PID FD\n");
        return 2;
    }
    long pid = strtol(argv[1], NULL, 10);
    int out = atoi(argv[2]);
    if (join_net(pid) < 0)
        return fail("cannot join the network namespace");
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return fail("socket");
    char byte = 0;
    struct iovec iov = {&byte, 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
    struct msghdr msg = {0};
    msg.msg_iov = &iov, msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf, msg.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &s, sizeof(int));
    if (sendmsg(out, &msg, 0) < 0)
        return fail("sendmsg");
    return 0;
}
