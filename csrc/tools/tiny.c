/* tiny - the smallest program worth exec'ing, for `pylab bench`.
 *
 * Not a lesson: it writes one line with write(2) (no stdio buffer, so the stdout
 * target changes nothing but the write itself) and exits 0. With the argument
 * "read" it first reads stdin until EOF, so it sleeps (state S) as long as a driver
 * keeps its stdin open.
 */
#include <string.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    char buf[512];
    if (argc > 1 && strcmp(argv[1], "read") == 0)
        while (read(0, buf, sizeof buf) > 0)
            ;
    return write(1, "tiny\n", 5) == 5 ? 0 : 1;
}
