/* probe isoc: what ISO C's own library declares. It includes every ISO C11 header and no
 * other; built as it is, it names system(), which ISO C has. The tour builds it again
 * with -std=c11 -DSYMBOL=fork (execl, execve): no ISO C header declares them, so that
 * build fails ('undeclared'); with -DPOSIX (<unistd.h> too) the same build succeeds. */
#include <assert.h>
#include <complex.h>
#include <ctype.h>
#include <errno.h>
#include <fenv.h>
#include <float.h>
#include <inttypes.h>
#include <iso646.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <tgmath.h>
#include <threads.h>
#include <time.h>
#include <uchar.h>
#include <wchar.h>
#include <wctype.h>
#ifdef POSIX
#include <unistd.h>
#endif
#ifndef SYMBOL
#define SYMBOL system
#endif
#define NAME(s) #s
#define SHOW(s) NAME(s)

int main(void)
{
    printf("declared=%s size=%zu\n", SHOW(SYMBOL), sizeof &SYMBOL);
    return 0;
}
