/* opt_changes_result - the optimisation level changes what this program prints.
 *
 * As TLPI's setjmp_vars: a local variable changed between setjmp and longjmp has an
 * unspecified value after the jump unless it is volatile. At -O0 the variable lives
 * in memory and keeps its new value (prints 2); at -O2 it is kept in a register that
 * longjmp restores (prints 1). The volatile one prints 2 either way.
 */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf env;

static void jump(void)
{
    longjmp(env, 1);
}

int main(void)
{
    int plain = 1;
    volatile int kept = 1;
    if (setjmp(env) == 0) {
        plain = 2;
        kept = 2;
        jump();
    }
    printf("plain %d\n", plain);
    printf("volatile %d\n", kept);
    return 0;
}
