/* probe pidseq: run as the init of a fresh PID namespace (nothing else allocates PIDs there):
 * successive children get successive PIDs, a thread takes a PID too, a freed PID is handed out
 * again (ns_last_pid), and after pid_max - 1 numbering wraps to 300, not to 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child(void)                /* fork a child that exits at once; reap it */
{
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

static void *tid(void *out) { *(pid_t *)out = gettid(); return NULL; }

static int set_last(long n)             /* the next PID will be n + 1 */
{
    FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
    if (!f) return -1;
    fprintf(f, "%ld", n);
    return fclose(f);
}

int main(void)
{
    pthread_t t; pid_t thread_tid = 0;
    long pid_max = 0;
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    if (!f || fscanf(f, "%ld", &pid_max) != 1) { perror("pid_max"); return 1; }
    fclose(f);
    pid_t a = child(), b = child(), c = child();
    pthread_create(&t, NULL, tid, &thread_tid);
    pthread_join(t, NULL);
    pid_t d = child();
    printf("self=%d seq=%d,%d,%d thread=%d after_thread=%d\n", getpid(), a, b, c, thread_tid, d);
    if (set_last(a - 1) < 0) { printf("reuse=unavailable\n"); return 0; }
    pid_t again = child();
    set_last(pid_max - 2);
    pid_t top = child(), wrapped = child();
    printf("reuse=%d pid_max=%ld top=%d wrapped=%d\n", again, pid_max, top, wrapped);
    return 0;
}
