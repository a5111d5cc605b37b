/* prompts - a program that talks with whoever is at its terminal.
 *
 * It prints a line, then a prompt with no newline, reads a name and greets it: on a
 * terminal each must be seen before the next is typed (stdout is line-buffered there,
 * and C stdio flushes it before a read from stdin).
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char name[64];
    printf("first line\n");
    printf("name? ");
    if (!fgets(name, sizeof name, stdin))
        return 1;
    name[strcspn(name, "\n")] = 0;
    printf("hello %s\n", name);
    return 0;
}
