/* probe creds: a permission goes with credentials, not with the PID. Run in a new UTS
 * namespace (as a user: inside a user namespace too). One child, one PID throughout:
 * sethostname (needs CAP_SYS_ADMIN over the namespace) before and after it drops every
 * capability; kill(parent, 0) before and after it switches to uid 65534 (needs root). */
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
        struct __user_cap_data_struct none[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
        pid_t first = getpid();
        printf("pid_before=%d uid_before=%d hostname_before=%s kill_before=%s\n", first, (int)getuid(),
               ok(sethostname("pylab", 5)), ok(kill(parent, 0)));
        int s = setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0 ? 0 : errno;
        int dropped = (int)syscall(SYS_capset, &h, none);
        printf("pid_after=%d uid_after=%d setuid=%s capset=%s hostname_after=%s kill_after=%s\n", getpid(),
               (int)getuid(), s ? strerrorname_np(s) : "ok", ok(dropped), ok(sethostname("pylab", 5)),
               ok(kill(parent, 0)));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    return 0;
}
