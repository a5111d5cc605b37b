/* probe prompt: a prompt with no newline, then a read from stdin (line-buffered, as a
 * terminal's stdin is): glibc writes a line-buffered stdout out before the read blocks;
 * a fully buffered stdout (pipe, file) keeps it until exit. Then a line with a newline and
 * a marker call (getppid): a line-buffered stdout is written at the newline, before the
 * marker; a fully buffered one only at exit. strace shows the order. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char line[64];
    setvbuf(stdin, NULL, _IOLBF, 0);
    printf("name? ");
    if (!fgets(line, sizeof line, stdin)) return 1;
    printf("hello\n");
    (void)getppid();                    /* the marker: was "hello\n" written before it? */
    return 0;
}
