/* lab_bench.h - process-creation costs timed in C, for `pylab bench` (pylab/bench/costs.py,
 * through pylab/bindings/lab_bench.py).
 *
 * Each loop is timed with CLOCK_MONOTONIC around the calls themselves, so Python's own
 * overhead (the cffi call, the interpreter) is not in the figures. A loop runs n rounds
 * and stores each round's nanoseconds in ns[0..n-1]; it returns 0, or -1 with errno set.
 * A program a loop execs gets /dev/null as its stdout and must exit 0 (else ECHILD).
 * As everywhere in the lab, a child leaves with _exit and never runs Python code.
 */
#ifndef PYLAB_LAB_BENCH_H
#define PYLAB_LAB_BENCH_H

/* cdef-begin */
int lab_bench_fork(int n, long long *ns);        /* fork, child _exit(0), waitpid */
int lab_bench_vfork(int n, long long *ns);       /* vfork, child _exit(0), waitpid */
int lab_bench_posix_spawn(int n, const char *path, long long *ns);  /* posix_spawn, waitpid */
int lab_bench_fork_exec(int n, const char *path, long long *ns);    /* fork, execv, waitpid */
/* A design the runner could take (docs/performance.md): a supervisor forked from this
 * process in C, with no exec of its own, that becomes a session leader and subreaper and
 * vforks + execs path, then reports its status by exiting. Timed from the fork to the
 * reaping of the supervisor. */
int lab_bench_forked_supervisor(int n, const char *path, long long *ns);

/* CLOCK_MONOTONIC in ns: the clock Python's time.monotonic_ns() reads too. */
long long lab_bench_now(void);
/* Fork a child that writes its lab_bench_now() (8 bytes) to fd, then _exit(0)s at
 * once. Returns its pid (the caller reaps it), -1 with errno. */
int lab_bench_stamped_child(int fd);
/* The floor for "how soon is an exit seen": a stamped child, polled here in a tight
 * loop on /proc/PID/stat (sched_yield between reads) until its state reads Z; returns
 * ns from the child's stamp to that read (the child is reaped), -1 with errno. */
long long lab_bench_zombie_seen(void);
/* cdef-end */

#endif
