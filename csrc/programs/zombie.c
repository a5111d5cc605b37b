/* zombie - a child that has exited stays a zombie (state Z) until its parent waits.
 *
 * Seed: processes.md, "zombie". Usage: zombie [SECONDS]  hold the zombie SECONDS
 * (default 60, as the seed; fractions allowed), or  zombie -  hold it until a line
 * arrives on stdin (a handshake, so drivers never sleep). Look for: `ps -o pid,stat,comm`
 * or `pylab run zombie --watch -- 5` shows the child as Z while the parent holds; after
 * wait() it is gone. In the seed, wait(NULL) sits after the whole if/else (indented as
 * if it were the else-branch's), so even the fork-error path called it; here only the
 * parent waits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    const char *hold = argc > 1 ? argv[1] : "60";
    char line[64];
    pid_t pid;

    pid = fork();
    if (pid < 0) {                      /* error */
        printf("error occurred!\n");
        return 1;
    } else if (pid == 0) {              /* child */
        exit(0);
    } else {                            /* parent: hold, then collect the zombie */
        double secs = atof(hold);
        struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};

        if (hold[0] == '-')
            (void)!fgets(line, sizeof line, stdin);   /* EOF also ends the hold */
        else
            nanosleep(&ts, NULL);
        wait(NULL);
    }
    return 0;
}
