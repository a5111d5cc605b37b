/* wait_status - a child ends each way and the parent prints what the W* macros say.
 *
 * Usage: wait_status [CASE]. No CASE: each ending in turn (in a scratch dir, with the soft
 * RLIMIT_CORE raised to the hard one); a CASE (return7 exit3 exit256 exit-1 SIGTERM
 * SIGSEGV): just end that way, for Python drivers. Look for: exit(256) seen as 0 and
 * exit(-1) as 255 (only the low 8 bits travel); WIFSIGNALED and WTERMSIG for a signal;
 * WCOREDUMP when SIGSEGV wrote a core (if not, the program says why); SIGSTOP and SIGCONT
 * seen only with WUNTRACED and WCONTINUED.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "err.h"

static const char *cases[] = {"return7", "exit3", "exit256", "exit-1", "SIGTERM", "SIGSEGV"};

static int end_as(const char *how)         /* in the child: end the way `how` names */
{
    if (!strcmp(how, "return7"))  return 7;               /* main's return is exit(7) */
    if (!strncmp(how, "exit", 4)) exit(atoi(how + 4));     /* exit3, exit256, exit-1 */
    if (!strcmp(how, "SIGTERM"))  raise(SIGTERM);
    if (!strcmp(how, "SIGSEGV"))  raise(SIGSEGV);
    fprintf(stderr, "wait_status: unknown case %s\n", how);
    return 2;
}

static void show(const char *label, int raw)
{
    printf("%-8s raw=0x%04x ", label, raw);
    if (WIFEXITED(raw))    printf("WIFEXITED WEXITSTATUS=%d\n", WEXITSTATUS(raw));
    if (WIFSIGNALED(raw))  printf("WIFSIGNALED WTERMSIG=%d (%s) WCOREDUMP=%d\n", WTERMSIG(raw),
                                  strsignal(WTERMSIG(raw)), WCOREDUMP(raw) ? 1 : 0);
    if (WIFSTOPPED(raw))   printf("WIFSTOPPED WSTOPSIG=%d (%s)\n", WSTOPSIG(raw), strsignal(WSTOPSIG(raw)));
    if (WIFCONTINUED(raw)) printf("WIFCONTINUED\n");
}

static void why_no_core(struct rlimit rl)   /* the core bit was 0: say what stood in the way */
{
    char pattern[256] = "?";
    FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
    if (f) { if (!fgets(pattern, sizeof pattern, f)) pattern[0] = 0; fclose(f); }
    pattern[strcspn(pattern, "\n")] = 0;
    printf("core bit not observed: RLIMIT_CORE hard limit %lld, core_pattern \"%s\"%s\n",
           rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max, pattern,
           pattern[0] == '|' ? " (a pipe: its handler decides)" : "");
}

int main(int argc, char *argv[])
{
    char dir[] = "/tmp/wait_status.XXXXXX", core[64];
    int raw, fds[2];
    pid_t pid, segv = 0;
    struct rlimit rl;

    if (argc > 1)
        return end_as(argv[1]);
    if (!mkdtemp(dir) || chdir(dir) < 0)    /* a core lands in the cwd: keep it off the user's */
        err_exit("scratch directory");
    getrlimit(RLIMIT_CORE, &rl);             /* here only: soft up to hard is always allowed */
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_CORE, &rl);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fflush(stdout);                      /* nothing buffered may be copied into the child */
        if ((pid = fork()) < 0) err_exit("fork");
        if (pid == 0) return end_as(cases[i]);   /* the child returns from main: exit() */
        if (waitpid(pid, &raw, 0) < 0) err_exit("waitpid");
        show(cases[i], raw);
        if (WIFSIGNALED(raw) && WTERMSIG(raw) == SIGSEGV) segv = pid;
        if (segv == pid && !WCOREDUMP(raw)) why_no_core(rl);
    }
    if (pipe(fds) < 0 || (pid = fork()) < 0) err_exit("fork");
    if (pid == 0) { close(fds[1]); (void)!read(fds[0], &raw, 1); _exit(0); }  /* until EOF */
    kill(pid, SIGSTOP);                      /* stopped and continued, with the child alive */
    if (waitpid(pid, &raw, WUNTRACED) < 0) err_exit("waitpid WUNTRACED");
    show("SIGSTOP", raw);
    kill(pid, SIGCONT);                      /* the child still blocks: continued is seen */
    if (waitpid(pid, &raw, WCONTINUED) < 0) err_exit("waitpid WCONTINUED");
    show("SIGCONT", raw);
    close(fds[1]);                           /* EOF: now the child may exit */
    if (waitpid(pid, &raw, 0) < 0) err_exit("waitpid");
    snprintf(core, sizeof core, "core.%d", (int)segv);   /* core_uses_pid names it core.PID */
    if (unlink("core") == 0 || unlink(core) == 0) printf("a core file was written (and removed)\n");
    if (chdir("/") < 0) err_exit("chdir");
    if (rmdir(dir) < 0) printf("left %s: it holds a core file named by core_pattern\n", dir);
    return 0;
}
