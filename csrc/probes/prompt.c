/* probe prompt: a prompt with no newline, then a read from stdin (line-buffered, as a
 * terminal's stdin is): glibc writes a line-buffered stdout out before the read blocks;
 * a fully buffered stdout (pipe, file) keeps it until exit. strace shows the order. */
#include <stdio.h>

int main(void)
{
    char line[64];
    setvbuf(stdin, NULL, _IOLBF, 0);
    printf("name? ");
    if (!fgets(line, sizeof line, stdin)) return 1;
    printf("hello\n");
    return 0;
}
