/* lab.c - the native library: process calls as a C program makes them. See lab.h. */
#define _GNU_SOURCE
#include "lab.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

const int LAB_WNOHANG = WNOHANG, LAB_WUNTRACED = WUNTRACED, LAB_WCONTINUED = WCONTINUED;

int lab_getpid(void) { return getpid(); }
int lab_getppid(void) { return getppid(); }
void lab_exit(int code) { exit(code); }
void lab__exit(int code) { _exit(code); }

void lab_decode_status(int raw, lab_status *out)
{
    memset(out, 0, sizeof *out);
    out->raw = raw;
    if ((out->exited = WIFEXITED(raw)))
        out->exit_code = WEXITSTATUS(raw);
    if ((out->signaled = WIFSIGNALED(raw))) {
        out->signal = WTERMSIG(raw);
        out->core_dumped = WCOREDUMP(raw) ? 1 : 0;
    }
    if ((out->stopped = WIFSTOPPED(raw)))
        out->stop_signal = WSTOPSIG(raw);
    out->continued = WIFCONTINUED(raw) ? 1 : 0;
}

int lab_waitpid(int pid, int options, lab_status *out)
{
    int raw = 0;
    pid_t got = waitpid(pid, &raw, options);
    if (got < 0)
        return -1;
    lab_decode_status(raw, out);
    out->pid = got;
    return got;
}

int lab_fork_child(const char *message, int how, int code)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;                 /* parent (or -1 with errno) */
    if (message)
        printf("%s", message);
    if (how == 1)
        _exit(code);
    exit(code);
}

int lab_make_zombie(int code)
{
    siginfo_t info;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(code);
    /* WNOWAIT: learn that it has exited without reaping it, so it stays a zombie */
    memset(&info, 0, sizeof info);
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0)
        if (errno != EINTR)
            return -1;
    return pid;
}

int lab_print(const char *text) { return printf("%s", text); }
int lab_fflush(void) { return fflush(stdout) == 0 ? 0 : -1; }

int lab_setvbuf(int mode)
{
    static const int modes[] = {_IONBF, _IOLBF, _IOFBF};
    if (mode < 0 || mode > 2) {
        errno = EINVAL;
        return -1;
    }
    return setvbuf(stdout, NULL, modes[mode], BUFSIZ) == 0 ? 0 : -1;
}

int lab_stdout_buffering(void)
{
#ifdef __GLIBC__
    /* glibc's FILE flags: _IO_UNBUFFERED 0x2, _IO_LINE_BUF 0x200 */
    if (stdout->_flags & 0x2)
        return 0;
    if (stdout->_flags & 0x200)
        return 1;
    /* Before the first output glibc has not chosen yet: it will pick line buffering
     * for a terminal, full buffering otherwise (_IO_file_doallocate). */
    if (stdout->_IO_buf_base == NULL && isatty(fileno(stdout)))
        return 1;
    return 2;
#else
    return -1;
#endif
}

int lab_stdout_pending(void)
{
#ifdef __GLIBC__
    return (int)(stdout->_IO_write_ptr - stdout->_IO_write_base);
#else
    return -1;
#endif
}

#define MAX_MESSAGES 64
static char *messages[MAX_MESSAGES];
static int n_messages;

/* atexit runs handlers last-in first-out; each call pops the newest message, so the
 * messages come out in reverse order of registration, as separate handlers would. */
static void print_newest(void)
{
    if (n_messages > 0) {
        char *m = messages[--n_messages];
        printf("%s", m);
        free(m);
    }
}

int lab_atexit_print(const char *message)
{
    char *copy;
    if (n_messages >= MAX_MESSAGES) {
        errno = ENOSPC;
        return -1;
    }
    if (!(copy = strdup(message)))
        return -1;
    if (atexit(print_newest) != 0) {
        free(copy);
        errno = ENOMEM;
        return -1;
    }
    messages[n_messages++] = copy;
    return 0;
}

int lab_set_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0); }

int lab_is_subreaper(void)
{
    int on = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, &on) < 0)
        return -1;
    return on;
}
