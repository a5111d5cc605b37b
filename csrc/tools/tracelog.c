/* tracelog - follow a command and every process it creates, and log what strace -f would.
 *
 * Not a lesson: pylab/run/tracer.py puts it in front of the supervisor for a traced run
 * (runner.run(trace=True), `pylab trace`, `--explain`) when it is built for this machine
 * (x86-64); strace stays the tracer of the grading sandbox and of other machines.
 *   tracelog LOG|@FD STRING_LIMIT [-E VAR=VALUE].. -- PROG ARGS..
 * It forks PROG, seizes it with ptrace (PTRACE_O_TRACEFORK/VFORK/CLONE/EXEC/SECCOMP,
 * EXITKILL: if the tracer dies, so does the run) and installs a seccomp filter in it
 * that stops only the calls the lab reads: write/writev to fd 1, 2 or -1 (stdiowatch's
 * markers), execve(at), exit(_group), wait4, waitid, kill, tkill, tgkill. Forks come as
 * ptrace events, signals as signal-delivery stops, ends from waitpid. Each is logged as
 * strace -f -ttt -xx logs it (the subset tracer.parse reads), so the same parser reads
 * both tracers' logs. What strace costs beyond that (its exec and start-up probes, a stop
 * at every traced call's entry and exit, formatting) is what this saves. Group-stops are
 * kept with PTRACE_LISTEN, so a stopped process stays stopped (state T). SIGINT and
 * SIGQUIT are ignored here: Ctrl-C reaches pylab, which stops the run through the
 * supervisor. Exits with PROG's status (128+N if killed by signal N).
 */
#define _GNU_SOURCE
#include "ptrace_core.h"

int main(int argc, char *argv[])
{
    int a = 3, go[2];
    if (argc < 5) {
        fprintf(stderr, "usage: tracelog LOG|@FD STRING_LIMIT [-E VAR=VALUE].. -- PROG ARGS..\n");
        return 2;
    }
    limit = (size_t)strtoul(argv[2], NULL, 10);
    /* LOG: a path, or @N: the file descriptor N we were given (kept from the run) */
    int fd = argv[1][0] == '@' ? fcntl(atoi(argv[1] + 1), F_DUPFD_CLOEXEC, 10)
                               : open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (argv[1][0] == '@')
        close(atoi(argv[1] + 1));
    if (fd < 0 || pipe2(go, O_CLOEXEC) < 0) {
        fprintf(stderr, "tracelog: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    pid_t root = fork();
    if (root == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) < 0) { /* EOF: we are seized */ }
        for (; a + 1 < argc && strcmp(argv[a], "--"); a += 2)
            if (!strcmp(argv[a], "-E"))
                putenv(argv[a + 1]);
        install_filter();
        execvp(argv[a + 1], &argv[a + 1]);
        fprintf(stderr, "tracelog: %s: %s\n", argv[a + 1], strerror(errno));
        _exit(127);
    }
    close(go[0]);
    if (root < 0 || seize(root) < 0) {
        fprintf(stderr, "tracelog: ptrace: %s\n", strerror(errno));
        if (root > 0)
            kill(root, SIGKILL), waitpid(root, NULL, 0);
        return 1;
    }
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    close(go[1]);                           /* the child may go on to its exec */
    /* Our copies of the run's stdio would hold its pipes open after the run: drop them
     * (stderr stays, for our own messages). */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(null, 0), dup2(null, 1);
    for (int i = 3; i < 1024; i++)
        if (i != fd && i != null)
            close(i);

    int code = trace_loop(root);
    log_write(fd);
    return code;
}
