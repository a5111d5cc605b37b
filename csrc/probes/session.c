/* probe session: process groups make up a session. A child calls setsid (a new session
 * and a new group, both numbered by its PID); its own child moves to a group of its own
 * with setpgid and stays in the session. Each prints pid, session and group. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t leader = fork();
    if (leader < 0) { perror("fork"); return 1; }
    if (leader == 0) {
        if (setsid() < 0) { perror("setsid"); _exit(1); }
        printf("leader_pid=%d leader_sid=%d leader_pgrp=%d\n", getpid(), getsid(0), getpgrp());
        fflush(stdout);
        pid_t member = fork();
        if (member == 0) {
            setpgid(0, 0);
            printf("member_pid=%d member_sid=%d member_pgrp=%d\n", getpid(), getsid(0), getpgrp());
            fflush(stdout);
            _exit(0);
        }
        waitpid(member, NULL, 0);
        _exit(0);
    }
    waitpid(leader, NULL, 0);
    printf("parent_sid=%d\n", getsid(0));
    return 0;
}
