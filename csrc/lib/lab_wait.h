/* lab_wait.h - children ending on purpose, and waitid, for pylab.bindings.lab_wait.
 *
 * Same conventions as lab.h: lab_ prefix, -1 with errno on failure, and anything
 * that forks returns only in the parent; the child leaves with _exit or a signal and
 * never runs Python code.
 */
#ifndef PYLAB_LAB_WAIT_H
#define PYLAB_LAB_WAIT_H

/* cdef-begin */
typedef struct {
    int pid;            /* si_pid: 0 when WNOHANG found nothing */
    int uid;            /* si_uid */
    int code;           /* si_code: one of LAB_CLD_* */
    int status;         /* si_status: the exit code, or the signal number */
} lab_waitinfo;

extern const int LAB_P_PID, LAB_P_ALL, LAB_WEXITED, LAB_WSTOPPED, LAB_WNOWAIT;
extern const int LAB_CLD_EXITED, LAB_CLD_KILLED, LAB_CLD_DUMPED, LAB_CLD_STOPPED,
                 LAB_CLD_CONTINUED;

/* waitid(2); with LAB_WNOWAIT the child is looked at and left waitable (a zombie stays). */
int lab_waitid(int idtype, int id, int options, lab_waitinfo *out);

/* fork n children; child i _exit(codes[i]) at once. pids[] gets their pids in creation
 * order. Returns n; on a failed fork the children made so far are reaped and -1 returned. */
int lab_fork_exits(int n, const int *codes, int *pids);

/* fork a child that ends one way: how 0 _exit(arg); 1 dies by signal arg (default action,
 * unblocked; the soft RLIMIT_CORE raised to the hard one so a core can be written);
 * 2 blocks until killed (to be stopped and continued). The child chdir()s to `cwd` first
 * when it is not NULL (where a core file lands). Returns the child's pid. */
int lab_fork_ending(int how, int arg, const char *cwd);
/* cdef-end */

#endif
