/* attack: flood stdout and stderr with 100 MiB each
 * family: output floods and control characters
 * target: getpid_test
 * expect: printed more than
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
    static char b[65536];
    memset(b, 'x', sizeof b);
    for (int i = 0; i < 1600; i++) { (void)!write(1, b, sizeof b); (void)!write(2, b, sizeof b); }
    return 0;
}
