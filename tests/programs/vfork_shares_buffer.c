/* vfork_shares_buffer - a vfork child has no stdout buffer of its own.
 *
 * The line is still in the buffer when the program vforks. The child runs in its
 * parent's memory until it execs or ends, so the pending line it "holds" is the
 * parent's: its _exit throws nothing away, and the parent writes the line later. With
 * `exec` as the argument the child execs `true` instead of calling _exit.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    printf("pending before vfork\n");
    pid_t pid = vfork();
    if (pid == 0) {
        if (argc > 1 && !strcmp(argv[1], "exec"))
            execlp("true", "true", (char *)NULL);
        _exit(0);
    }
    if (pid < 0) {
        perror("vfork");
        return 1;
    }
    waitpid(pid, NULL, 0);
    printf("parent done\n");
    return 0;
}
