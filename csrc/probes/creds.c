/* probe creds: a permission goes with credentials, not with the PID: a child checks
 * whether it may signal its parent (kill(parent, 0)), then, the same PID, switches to
 * uid/gid 65534 (needs root) and checks again. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *may_signal(pid_t pid) { return kill(pid, 0) == 0 ? "ok" : strerrorname_np(errno); }

int main(void)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        pid_t before = getpid();
        const char *first = may_signal(parent);
        int s = setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0 ? 0 : errno;
        printf("pid_before=%d uid_before=%d kill_before=%s setuid=%s pid_after=%d uid_after=%d kill_after=%s\n",
               before, s ? (int)getuid() : 0, first, s ? strerrorname_np(s) : "ok", getpid(), (int)getuid(),
               may_signal(parent));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    return 0;
}
