/* lab_wait.c - children ending on purpose, and waitid. See lab_wait.h. */
#define _GNU_SOURCE
#include "lab_wait.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

const int LAB_P_PID = P_PID, LAB_P_ALL = P_ALL;
const int LAB_WEXITED = WEXITED, LAB_WSTOPPED = WSTOPPED, LAB_WNOWAIT = WNOWAIT;
const int LAB_CLD_EXITED = CLD_EXITED, LAB_CLD_KILLED = CLD_KILLED, LAB_CLD_DUMPED = CLD_DUMPED,
          LAB_CLD_STOPPED = CLD_STOPPED, LAB_CLD_CONTINUED = CLD_CONTINUED;

int lab_waitid(int idtype, int id, int options, lab_waitinfo *out)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);      /* WNOHANG with nothing to report leaves si_pid 0 */
    if (waitid((idtype_t)idtype, (id_t)id, &info, options) < 0)
        return -1;
    out->pid = info.si_pid;
    out->uid = (int)info.si_uid;
    out->code = info.si_code;
    out->status = info.si_status;
    return 0;
}

int lab_fork_exits(int n, const int *codes, int *pids)
{
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(codes[i]);
        if (pid < 0) {
            int saved = errno;
            while (i-- > 0)
                waitpid(pids[i], NULL, 0);
            errno = saved;
            return -1;
        }
        pids[i] = pid;
    }
    return n;
}

int lab_fork_ending(int how, int arg, const char *cwd)
{
    struct rlimit rl;
    sigset_t all;
    pid_t pid = fork();
    if (pid != 0)
        return pid;                     /* parent, or -1 with errno */
    if (cwd && chdir(cwd) < 0)
        _exit(127);
    if (how == 1) {
        getrlimit(RLIMIT_CORE, &rl);    /* raising the soft limit up to the hard one is allowed */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_CORE, &rl);
        signal(arg, SIG_DFL);           /* Python may have set a handler: the default action kills */
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        raise(arg);
        _exit(126);                     /* the signal did not kill (ignored by default?) */
    }
    if (how == 2)
        for (;;)
            pause();
    _exit(arg);
}
