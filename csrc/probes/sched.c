/* probe sched: the scheduler runs threads, and a time slice is a setting. Two threads of
 * one process spin for 40 ms of wall time: on 2+ CPUs the process's CPU time outgrows
 * the wall clock, and each thread is a task of its own in /proc/self/task. Then the
 * process asks sched_setattr for a 3 ms slice and /proc/self/sched shows se.slice. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct sched_attr_v1 {                   /* the kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1) */
    uint32_t size, policy; uint64_t flags; int32_t nice; uint32_t priority;
    uint64_t runtime, deadline, period; uint32_t util_min, util_max;
};

static double now(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }

static long slice_ns(void)               /* se.slice from /proc/self/sched, -1 if absent */
{
    char line[256]; long v = -1;
    FILE *f = fopen("/proc/self/sched", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "se.slice", 8) == 0) sscanf(strchr(line, ':') + 1, "%ld", &v);
    if (f) fclose(f);
    return v;
}

/* started: all three run; counted: no spinner ends before main has counted the tasks
 * (main preempted past `end` on a loaded machine would otherwise count itself alone) */
static pthread_barrier_t started, counted;
static void *spin(void *arg)
{
    double end = *(double *)arg;
    pthread_barrier_wait(&started);
    while (now(CLOCK_MONOTONIC) < end) {}
    pthread_barrier_wait(&counted);
    return NULL;
}

int main(void)
{
    pthread_t t[2]; int tasks = 0; struct dirent *e;
    double wall0 = now(CLOCK_MONOTONIC), cpu0 = now(CLOCK_PROCESS_CPUTIME_ID), end = wall0 + 40;
    pthread_barrier_init(&started, NULL, 3);
    pthread_barrier_init(&counted, NULL, 3);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, spin, &end);
    pthread_barrier_wait(&started);
    DIR *d = opendir("/proc/self/task");
    while (d && (e = readdir(d))) tasks += e->d_name[0] != '.';
    if (d) closedir(d);
    pthread_barrier_wait(&counted);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("cpus=%ld tasks_while_spinning=%d wall_ms=%.1f cpu_ms=%.1f\n", sysconf(_SC_NPROCESSORS_ONLN), tasks,
           now(CLOCK_MONOTONIC) - wall0, now(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
    long before = slice_ns();
    struct sched_attr_v1 a = { .size = sizeof a, .policy = 0, .runtime = 3000000 };
    int r = syscall(SYS_sched_setattr, 0, &a, 0);
    printf("slice_before_ns=%ld setattr=%s slice_after_ns=%ld\n", before, r == 0 ? "ok" : "failed", slice_ns());
    return 0;
}
