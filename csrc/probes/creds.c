/* probe creds: a permission goes with credentials, not with the PID. Run in a new UTS
 * namespace (as a user: inside a user namespace too). One child, one PID throughout, one
 * credential changed at a time: sethostname (needs CAP_SYS_ADMIN over the namespace) before
 * and after it drops that capability, its uid unchanged; then kill(parent, 0) before and
 * after it switches to uid 65534 (needs root: CAP_SETUID, kept for that step). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ok(int r) { return r == 0 ? "ok" : strerrorname_np(errno); }

int main(void)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        unsigned keep = 1u << CAP_SETUID | 1u << CAP_SETGID;   /* every capability but these two goes */
        struct __user_cap_data_struct caps[2] = { { keep, keep, 0 }, { 0, 0, 0 } };
        printf("pid_before=%d uid_before=%d hostname_before=%s kill_before=%s\n", getpid(), (int)getuid(),
               ok(sethostname("pylab", 5)), ok(kill(parent, 0)));
        int capset = (int)syscall(SYS_capset, &h, caps);
        printf("pid_mid=%d uid_mid=%d capset=%s hostname_after=%s kill_mid=%s\n", getpid(), (int)getuid(),
               ok(capset), ok(sethostname("pylab", 5)), ok(kill(parent, 0)));
        int s = setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0 ? 0 : errno;
        printf("pid_after=%d uid_after=%d setuid=%s kill_after=%s\n", getpid(), (int)getuid(),
               s ? strerrorname_np(s) : "ok", ok(kill(parent, 0)));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    return 0;
}
