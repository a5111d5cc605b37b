/* attack: make new user, mount and network namespaces to gain capabilities, mount over
 *         the read-only system, chroot out
 * family: namespaces
 * target: getpid_test
 * expect: unshare user -1 .*mount -1 .*chroot -1
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>
int main(void)
{
    int u = unshare(CLONE_NEWUSER);
    int un = unshare(CLONE_NEWNS | CLONE_NEWNET);
    int m = mount("none", "/usr", "tmpfs", 0, 0);
    int r = mount(0, "/usr", 0, MS_REMOUNT | MS_BIND, 0);
    int c = chroot("/box");
    printf("unshare user %d ns %d mount %d remount %d chroot %d errno %d\n", u, un, m, r, c, errno);
    return 0;
}
