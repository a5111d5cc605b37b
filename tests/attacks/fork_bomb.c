/* attack: the classic fork bomb
 * family: fork, thread and clone bombs
 * target: getpid_test
 * expect: still running after the time limit
 * wall: 0.5
 */
#include <unistd.h>
int main(void) { for (;;) fork(); }
