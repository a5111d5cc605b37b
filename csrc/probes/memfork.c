/* probe memfork: fork under an address-space limit that leaves no room for more memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu", &pages) != 1) { perror("statm"); return 1; }
    fclose(f);
    struct rlimit rl = { pages * sysconf(_SC_PAGESIZE) + (16 << 20), RLIM_INFINITY };
    rl.rlim_max = rl.rlim_cur;
    if (setrlimit(RLIMIT_AS, &rl) < 0) { perror("setrlimit"); return 1; }
    void *p = malloc(64 << 20);
    printf("limit=%lu malloc64M=%s\n", (unsigned long)rl.rlim_cur, p ? "ok" : strerrorname_np(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    printf("fork=%s\n", pid > 0 ? "ok" : strerrorname_np(errno));
    if (pid > 0) waitpid(pid, NULL, 0);
    return 0;
}
