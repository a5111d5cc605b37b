/* attack: leave 1.5 GiB sparse files and a flood of small ones where logs might be read
 * family: FIFO and huge logs
 * target: getpid_test
 * expect: SIGXFSZ|larger than allowed|still running after the time limit
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int fd = open("/box/tmp/forks.1", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 200; i++) {
        char name[64];
        snprintf(name, sizeof name, "/box/work/@MARK@%d", i);
        close(open(name, O_WRONLY | O_CREAT, 0644));
    }
    lseek(fd, (off_t)3 << 29, SEEK_SET);
    return write(fd, "x", 1) == 1 ? 0 : 2;
}
