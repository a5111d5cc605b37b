/* lab.h - the native library pylab wraps with cffi (pylab._native).
 *
 * The builder (pylab/_build.py) reads the declarations between the cdef markers of
 * every csrc/lib/lab*.h as its cdef, so this header is the single source of truth.
 * Conventions: functions are prefixed lab_; on failure they return -1 with errno
 * set (pylab/bindings/native.py turns that into OSError). Anything that forks returns only in
 * the parent: the child leaves with exit/_exit and never runs Python code.
 */
#ifndef PYLAB_LAB_H
#define PYLAB_LAB_H

/* cdef-begin */
typedef struct {
    int pid;            /* whose status this is (0: nothing to report, WNOHANG) */
    int raw;            /* the raw status word waitpid filled in */
    int exited;         /* WIFEXITED */
    int exit_code;      /* WEXITSTATUS */
    int signaled;       /* WIFSIGNALED */
    int signal;         /* WTERMSIG */
    int core_dumped;    /* WCOREDUMP */
    int stopped;        /* WIFSTOPPED */
    int stop_signal;    /* WSTOPSIG */
    int continued;      /* WIFCONTINUED */
} lab_status;

int lab_getpid(void);
int lab_getppid(void);
void lab_exit(int code);
void lab__exit(int code);

/* options for lab_waitpid: the W* flags of this platform */
extern const int LAB_WNOHANG, LAB_WUNTRACED, LAB_WCONTINUED;
int lab_waitpid(int pid, int options, lab_status *out);
void lab_decode_status(int raw, lab_status *out);

/* fork; the child prints `message` with printf (may be NULL) and ends by `how`:
 * 0 exit(code), 1 _exit(code).
 * Returns the child's pid in the parent. */
int lab_fork_child(const char *message, int how, int code);
/* a child that has exited with `code` and is not yet reaped (a zombie): waitid with
 * WEXITED|WNOWAIT has seen it exit, so it is a zombie when this returns. */
int lab_make_zombie(int code);

/* C stdio on stdout */
int lab_print(const char *text);            /* printf("%s", text) */
int lab_fflush(void);
int lab_setvbuf(int mode);                  /* 0 none, 1 line, 2 full */
int lab_stdout_buffering(void);             /* 0 none, 1 line, 2 full, -1 unknown */
int lab_stdout_pending(void);               /* bytes waiting in stdout's buffer, -1 unknown */
/* register a C atexit handler that prints `message` to stdout (copied) */
int lab_atexit_print(const char *message);

/* PR_SET_CHILD_SUBREAPER on this process */
int lab_set_subreaper(int on);
int lab_is_subreaper(void);
/* cdef-end */

#endif
