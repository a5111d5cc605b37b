/* probe forklimit: fork until fork fails; children stay alive ("live") or are zombies
 * ("zombie"). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char *argv[])
{
    int zombies = argc > 1 && strcmp(argv[1], "zombie") == 0, made = 0, err = 0, fds[2];
    siginfo_t si;
    if (pipe(fds) < 0) { perror("pipe"); return 1; }
    for (made = 0; made < 200; made++) {
        pid_t pid = fork();
        if (pid < 0) { err = errno; break; }
        if (pid == 0) {                 /* live: block until the parent closes the pipe */
            char c;
            close(fds[1]);
            if (!zombies) (void)!read(fds[0], &c, 1);
            _exit(0);
        }
        if (zombies)                    /* be sure it has exited (and is not reaped) */
            waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    }
    printf("made=%d mode=%s errno=%s\n", made, zombies ? "zombie" : "live",
           err ? strerrorname_np(err) : "none");
    fflush(stdout);
    close(fds[1]);
    while (wait(NULL) > 0) {}
    return 0;
}
