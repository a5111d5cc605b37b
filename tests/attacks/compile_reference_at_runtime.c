/* attack: find gcc and the reference at run time, compile it and exec the result
 * family: read references or hidden checks
 * target: getpid_test
 * expect: still running after the time limit|exit status 3
 * wall: 0.5
 */
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
    if (system("gcc -o /tmp/ref @CSRC@/programs/getpid_test.c 2>/dev/null") == 0)
        execl("/tmp/ref", "ref", (char *)0);
    if (system("find / -name 'getpid_test.c' -not -path '/proc/*' 2>/dev/null | head -1 "
               "| xargs -r gcc -o /tmp/ref2 2>/dev/null") == 0)
        execl("/tmp/ref2", "ref", (char *)0);
    return 3;
}
