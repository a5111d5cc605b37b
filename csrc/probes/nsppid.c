/* probe nsppid: getppid() of a process whose parent is outside its PID namespace is 0.
 * unshare(CLONE_NEWPID), then fork: the child is PID 1 of the new namespace, its parent is
 * this process, in the namespace above. The child reports getpid and getppid on a pipe
 * and exits; the parent reads the zombie's /proc/PID/stat (its PPID as the parent's
 * namespace sees it), then reaps it. Run with CAP_SYS_ADMIN (root, or root of a user
 * namespace: unshare -Ur). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    if (unshare(CLONE_NEWPID) < 0) { printf("unshare=%s\n", strerrorname_np(errno)); return 0; }
    if (pipe(fds) < 0) { perror("pipe"); return 1; }
    pid_t child = fork();
    if (child < 0) { printf("fork=%s\n", strerrorname_np(errno)); return 0; }
    if (child == 0) {
        char line[96];
        int n = snprintf(line, sizeof line, "child_getpid=%d child_getppid=%d\n", getpid(), getppid());
        (void)!write(fds[1], line, n);
        _exit(0);
    }
    close(fds[1]);
    char got[96] = "";
    ssize_t n = read(fds[0], got, sizeof got - 1);      /* the child's line, then EOF at its exit */
    got[n > 0 ? n : 0] = '\0';
    char path[64], stat[512] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    FILE *f = fopen(path, "r");
    int ppid = -1;
    if (f) {
        if (fgets(stat, sizeof stat, f)) {
            char *end = strrchr(stat, ')');            /* comm may hold spaces: fields follow ") " */
            if (end) sscanf(end + 2, "%*c %d", &ppid);
        }
        fclose(f);
    }
    int st;
    pid_t reaped = waitpid(child, &st, 0);
    printf("%sparent_getpid=%d forked=%d child_stat_ppid=%d reaped=%d\n", got, getpid(), child, ppid, reaped);
    return 0;
}
