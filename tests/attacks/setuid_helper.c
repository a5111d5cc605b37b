/* attack: leave a setuid copy of the shell in /tmp for the next submission with this uid
 * family: uid reuse
 * target: getpid_test
 * expect: helper (-1|0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
int main(void)
{
    int r = system("cp /bin/sh /tmp/@MARK@suid && chmod 4755 /tmp/@MARK@suid");
    int s = chmod("/tmp/@MARK@suid", 04755);
    printf("helper %d %d\n", r == 0 ? 0 : -1, s);
    return 0;
}
