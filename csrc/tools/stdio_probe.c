/* stdio_probe - how C stdio buffers stdout on whatever stdout is now.
 *
 * Not a lesson: the runner runs it to say, from observation, what stdio does with each
 * stdout target. It writes "x" (no newline) and then "\n", asking __fpending after
 * each how much is still held in the buffer, and reports on stderr: "none" (nothing
 * held), "line" (held until the newline) or "full" (held past the newline).
 */
#include <stdio.h>
#include <stdio_ext.h>

int main(void)
{
    size_t after_text, after_newline;

    fputs("x", stdout);
    after_text = __fpending(stdout);
    fputs("\n", stdout);
    after_newline = __fpending(stdout);
    fputs(after_text == 0 ? "none" : after_newline == 0 ? "line" : "full", stderr);
    return 0;
}
