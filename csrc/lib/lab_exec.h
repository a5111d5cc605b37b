/* lab_exec.h - exec, process groups and pidfds for pylab.bindings._native, wrapped by
 * pylab/bindings/lab_exec.py (see lab.h for the
 * conventions: lab_ prefix, -1 with errno on failure, children never return to Python).
 */
#ifndef PYLAB_LAB_EXEC_H
#define PYLAB_LAB_EXEC_H

#include "lab.h"

/* cdef-begin */
/* fork + execvp(argv[0], argv) with a close-on-exec error pipe. Returns
 * the child's pid; *exec_errno is 0 when the exec happened, else the errno the child
 * sent through the pipe before _exit(127). Either way the caller reaps the child. */
int lab_fork_exec(char *argv[], int *exec_errno);
/* posix_spawnp(argv[0], argv): the child's pid, or -1 with errno = what it returned */
int lab_spawn(char *argv[]);
/* a child that waits in pause() until a signal ends it. pgid >= 0: it is put in
 * process group pgid (0: a new group it leads) by BOTH itself and the parent, so the
 * group is right when this returns; pgid -1: left in the caller's group. */
int lab_fork_paused(int pgid);
int lab_getpgid(int pid);
int lab_setpgid(int pid, int pgid);
int lab_getsid(int pid);
/* pidfds through syscall(): pidfd_open(pid, 0), pidfd_send_signal(fd, sig, NULL, 0) */
int lab_pidfd_open(int pid);
int lab_pidfd_send_signal(int pidfd, int sig);
/* waitid(P_PIDFD, pidfd, options | WEXITED unless WSTOPPED/WCONTINUED given); the
 * siginfo is turned back into a wait status. Returns the pid, 0 with WNOHANG and
 * nothing to report. (The W* option constants: LAB_WNOHANG... in lab.h, LAB_WEXITED,
 * LAB_WSTOPPED, LAB_WNOWAIT in lab_wait.h.) */
int lab_pidfd_wait(int pidfd, int options, lab_status *out);
/* cdef-end */

#endif
