/* attack: leave a daemon (double fork, new session, SIGHUP ignored) that rewrites the
 *         results files once grading has ended
 * family: daemons
 * target: getpid_test
 * expect: left \d+ process|still running after the time limit
 * wall: 0.5
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    if (fork() == 0) {
        setsid();
        signal(SIGHUP, SIG_IGN);
        if (fork() == 0) {
            for (;;) {
                const char *paths[] = {"../results.json", "../../results.json", "/box/../results.json",
                                       "@SECRET_DIR@/../results.json", "/tmp/@MARK@results.json", 0};
                for (int i = 0; paths[i]; i++) {
                    FILE *f = fopen(paths[i], "w");
                    if (f) { fputs("{\"score\": 62}", f); fclose(f); }
                }
                usleep(1000);
            }
        }
        _exit(0);
    }
    return 0;
}
