/* fd_leak - a descriptor opened without O_CLOEXEC leaks into the program exec runs;
 * one opened with O_CLOEXEC is closed by the exec.
 *
 * Usage: fd_leak. It opens /dev/null twice, once plain and once with O_CLOEXEC, then
 * forks and execs itself (/proc/self/exe) with the two numbers on its command line. The
 * new program knows nothing else of them: it asks fcntl(F_GETFD) about each and lists
 * /proc/self/fd. Look for: the plain descriptor "open (leaked)" pointing at /dev/null,
 * the O_CLOEXEC one "closed (EBADF)", and only the leaked one besides 0, 1, 2 in the list.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

static int inspect(int argc, char *argv[])      /* runs in the exec'd program */
{
    char path[64], target[256], label[16];
    struct dirent *e;
    DIR *d;
    int fd;

    for (int i = 2; i < argc; i++) {
        if (sscanf(argv[i], "%15[^:]:%d", label, &fd) != 2)
            continue;
        if (fcntl(fd, F_GETFD) < 0) {
            printf("after exec: %s fd %d closed (%s)\n", label, fd, strerrorname_np(errno));
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        printf("after exec: %s fd %d open (leaked) -> %s\n", label, fd, target);
    }
    if (!(d = opendir("/proc/self/fd")))
        err_exit("opendir /proc/self/fd");
    printf("after exec: /proc/self/fd lists");
    while ((e = readdir(d)))                    /* skip . .. and the listing's own fd */
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            printf(" %s", e->d_name);
    printf("\n");
    closedir(d);
    return 0;
}

int main(int argc, char *argv[])
{
    char plain_arg[32], cloexec_arg[32];
    int plain, cloexec, status;
    pid_t pid;

    if (argc > 1 && strcmp(argv[1], "--inspect") == 0)
        return inspect(argc, argv);
    if ((plain = open("/dev/null", O_RDONLY)) < 0 || (cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        err_exit("open /dev/null");
    printf("before exec: plain fd %d, O_CLOEXEC fd %d\n", plain, cloexec);
    snprintf(plain_arg, sizeof plain_arg, "plain:%d", plain);
    snprintf(cloexec_arg, sizeof cloexec_arg, "cloexec:%d", cloexec);
    fflush(stdout);
    if ((pid = fork()) < 0)
        err_exit("fork");
    if (pid == 0) {
        execl("/proc/self/exe", "fd_leak", "--inspect", plain_arg, cloexec_arg, (char *)NULL);
        err_exit_child("execl /proc/self/exe");
    }
    if (waitpid(pid, &status, 0) < 0)
        err_exit("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
