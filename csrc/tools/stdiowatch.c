/* stdiowatch - an LD_PRELOAD library that tells the outside tracer what C stdio held.
 *
 * Not a lesson: pylab/run/tracer.py preloads it into a traced program. A system-call
 * trace shows every write(2), but not what was still in stdout's buffer when the
 * program forked, exec'd or left with _exit - the bytes fork copies into the child and
 * exec or _exit throw away - nor a setvbuf call. So, at those moments, this library
 * makes one system call the tracer sees and nobody else does: a write to fd -1 (it
 * fails with EBADF and changes nothing) whose bytes are a marker line
 *   "pylab-stdio EVENT MODE PENDING ADDR BASE PATH\n" then PENDING bytes
 * EVENT: fork (pthread_atfork prepare: fork() and what calls it), exec (the exec
 * family), _exit, setvbuf (setvbuf, setbuf, setbuffer, setlinebuf on stdout);
 * MODE: stdout's buffering after the call (none, line, full; before stdout's first
 * use, the mode glibc will give it then); ADDR, BASE: the caller's
 * return address and its object's load address (with the -g binary, addr2line gives
 * the source line); PATH: that object. glibc only: the pending bytes are read from
 * its FILE fields. The program could write such a line itself: treat markers as the
 * program's claims, never as evidence in grading.
 * Under the lab's own tracer (csrc/tools/tracelog.c sets PYLAB_STDIO_SLOT), a fork,
 * exec or _exit marker is left in memory instead, in `slot`, whose address is told once
 * per program (a write to fd -1 of "pylab-stdio-slot ADDR"): the tracer stops at the
 * fork, exec or exit that follows anyway and reads it there, so a marker costs no stop.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* glibc's own test at the first output (libio/filedoalloc.c): a character device that
 * is a terminal gets a line-buffered stream, anything else a fully buffered one. */
static int will_line_buffer(int fd)
{
    struct stat st;

    return fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && isatty(fd); /* (mark keeps errno) */
}

/* The buffering stdio uses, or will use, for f. A mode the program chose is in _flags
 * (setvbuf: _IO_UNBUFFERED or _IO_LINE_BUF; _IOFBF allocates the buffer at once). The
 * default is not: glibc sets _IO_LINE_BUF only when it allocates the buffer, at the
 * first output, so before that (no _IO_buf_base) ask what it will ask then. */
static const char *mode_of(FILE *f)
{
    if (f->_flags & 0x0002)     /* _IO_UNBUFFERED */
        return "none";
    if (f->_flags & 0x0200)     /* _IO_LINE_BUF */
        return "line";
    return !f->_IO_buf_base && will_line_buffer(f->_fileno) ? "line" : "full";
}

static struct { volatile unsigned len; char data[8192]; } slot;
static int in_slot;

static void mark(const char *event, void *caller)
{
    char buf[sizeof slot.data];
    Dl_info info = {0};
    size_t pending = 0;
    int n, saved = errno;       /* the program must not see our EBADF */

    if (stdout->_IO_write_ptr && stdout->_IO_write_base)
        pending = (size_t)(stdout->_IO_write_ptr - stdout->_IO_write_base);
    if (!caller || !dladdr(caller, &info))
        info.dli_fname = "?";
    n = snprintf(buf, 1024, "pylab-stdio %s %s %zu %p %p %s\n", event, mode_of(stdout), pending,
                 caller, info.dli_fbase, info.dli_fname ? info.dli_fname : "?");
    if (n > 0 && n < 1024) {
        if (pending > sizeof buf - (size_t)n)
            pending = sizeof buf - (size_t)n;
        memcpy(buf + n, stdout->_IO_write_base, pending);
        if (in_slot && strcmp(event, "setvbuf")) {  /* read at the call that follows */
            memcpy(slot.data, buf, (size_t)n + pending);
            slot.len = (unsigned)n + (unsigned)pending;
        } else if (write(-1, buf, (size_t)n + pending) < 0) { /* EBADF: the point is the trace */ }
    }
    errno = saved;
}

static void before_fork(void) { mark("fork", NULL); }

__attribute__((constructor)) static void init(void)
{
    pthread_atfork(before_fork, NULL, NULL);
    if (getenv("PYLAB_STDIO_SLOT")) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "pylab-stdio-slot %p\n", (void *)&slot), saved = errno;
        if (write(-1, buf, (size_t)n) < 0) { /* EBADF, as ever: the tracer has seen it */ }
        errno = saved;
        in_slot = 1;
    }
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int setvbuf(FILE *f, char *buf, int mode, size_t size)
{
    int r = REAL(setvbuf)(f, buf, mode, size);
    if (f == stdout)
        mark("setvbuf", __builtin_return_address(0));
    return r;
}

void setbuf(FILE *f, char *buf)
{
    REAL(setvbuf)(f, buf, buf ? _IOFBF : _IONBF, BUFSIZ);
    if (f == stdout)
        mark("setvbuf", __builtin_return_address(0));
}

void setbuffer(FILE *f, char *buf, size_t size)
{
    REAL(setvbuf)(f, buf, buf ? _IOFBF : _IONBF, size);
    if (f == stdout)
        mark("setvbuf", __builtin_return_address(0));
}

void setlinebuf(FILE *f)
{
    REAL(setvbuf)(f, NULL, _IOLBF, 0);
    if (f == stdout)
        mark("setvbuf", __builtin_return_address(0));
}

void _exit(int code)
{
    mark("_exit", __builtin_return_address(0));
    REAL(_exit)(code);
    __builtin_unreachable();
}

void _Exit(int code)
{
    mark("_exit", __builtin_return_address(0));
    REAL(_Exit)(code);
    __builtin_unreachable();
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    mark("exec", __builtin_return_address(0));
    return REAL(execve)(path, argv, envp);
}

int execv(const char *path, char *const argv[])
{
    mark("exec", __builtin_return_address(0));
    return REAL(execv)(path, argv);
}

int execvp(const char *file, char *const argv[])
{
    mark("exec", __builtin_return_address(0));
    return REAL(execvp)(file, argv);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
    mark("exec", __builtin_return_address(0));
    return REAL(execvpe)(file, argv, envp);
}

/* The list forms gather their arguments (at most 255) and call the vector forms. */
#define GATHER(first, ap, argv, envp_out)                                   \
    char *argv[256];                                                        \
    int i_ = 0;                                                             \
    va_start(ap, first);                                                    \
    argv[i_++] = (char *)first;                                             \
    while (i_ < 255 && (argv[i_] = va_arg(ap, char *)) != NULL) i_++;       \
    argv[i_] = NULL;                                                        \
    envp_out;                                                               \
    va_end(ap)

int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    GATHER(arg, ap, argv, (void)0);
    mark("exec", __builtin_return_address(0));
    return REAL(execv)(path, argv);
}

int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    GATHER(arg, ap, argv, (void)0);
    mark("exec", __builtin_return_address(0));
    return REAL(execvp)(file, argv);
}

int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    char **envp;
    GATHER(arg, ap, argv, envp = va_arg(ap, char **));
    mark("exec", __builtin_return_address(0));
    return REAL(execve)(path, argv, envp);
}
