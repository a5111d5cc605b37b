/* twofiles - a program in two .c files with a header in its own include folder.
 *
 * It needs `-I include` (for greet.h) and greet.c linked in, as TLPI's programs need
 * tlpi_hdr.h and the library's error functions. GREETING may be set with -D.
 */
#include <stdio.h>
#include "greet.h"

int main(void)
{
    printf("%s\n", greeting());
    printf("answer %d\n", ANSWER);
    return 0;
}
