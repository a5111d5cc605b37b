/* probe pgroup: a signal sent to a process group reaches the members its sender may signal.
 * One group: this parent (its leader), a keeper of the parent's uid, and a bystander and a
 * sender which, as root, switch to uid 65534 (as anyone else the switch fails: one uid).
 * The sender calls kill(-pgrp, SIGTERM); then kill(-lone, SIGTERM) on a group whose one
 * member keeps the parent's uid. SIGTERM is blocked everywhere, so a signal that reached a
 * member stays pending (ShdPnd in /proc/PID/status), read once the sender's kill returned
 * (kill queues to every member before it returns): no waiting. Then the parent signals
 * the group itself, and the keeper is read again. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int ready[2], go[2], res[2];

static int pending_term(pid_t pid)              /* SIGTERM in the process's shared pending set */
{
    char path[64], line[256];
    unsigned long long set = 0;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "ShdPnd: %llx", &set) == 1) break;
    fclose(f);
    return (set >> (SIGTERM - 1)) & 1;
}

static pid_t member(int role, int lone)         /* role 0 keeper, 1 bystander, 2 sender */
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    char c = 'e';
    if (lone) setpgid(0, 0);
    if (role > 0 && getuid() == 0)
        c = (setgroups(0, NULL) == 0 && setresgid(65534, 65534, 65534) == 0
             && setresuid(65534, 65534, 65534) == 0) ? 'y' : 'n';
    else if (role > 0)
        c = setresuid(65534, 65534, 65534) == 0 ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    if (role == 2) {
        char g;
        int r1, e1, r2, e2;
        (void)!read(go[0], &g, 1);
        pid_t lonepg;
        (void)!read(go[0], &lonepg, sizeof lonepg);
        r1 = kill(-getpgrp(), SIGTERM); e1 = errno;
        r2 = kill(-lonepg, SIGTERM); e2 = errno;
        char out[160];
        int n = snprintf(out, sizeof out, "sender_kill=%d sender_errno=%s lone_kill=%d lone_errno=%s\n",
                         r1, r1 ? strerrorname_np(e1) : "none", r2, r2 ? strerrorname_np(e2) : "none");
        (void)!write(res[1], out, n);
    }
    for (;;) pause();
}

int main(void)
{
    sigset_t term;
    sigemptyset(&term); sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);        /* inherited: SIGTERM stays pending in every member */
    setpgid(0, 0);                              /* a group of its own (fails harmlessly if it leads one) */
    if (pipe(ready) < 0 || pipe(go) < 0 || pipe(res) < 0) { perror("pipe"); return 1; }
    pid_t keeper = member(0, 0), other = member(1, 0), sender = member(2, 0), lone = member(0, 1);
    char c[4], switched = 'y';
    for (int i = 0; i < 4; i++) {
        if (read(ready[0], &c[i], 1) != 1) { perror("read"); return 1; }
        if (c[i] == 'n') switched = 'n';
    }
    setpgid(lone, lone);                        /* both sides set it, whoever runs first */
    pid_t pg = getpgrp();
    (void)!write(go[1], "g", 1);
    (void)!write(go[1], &lone, sizeof lone);
    char out[160] = "";
    ssize_t n = read(res[0], out, sizeof out - 1);
    out[n > 0 ? n : 0] = '\0';
    sigset_t mine;
    sigpending(&mine);
    printf("pgrp=%d lone_pgrp=%d switch=%s parent=%d keeper=%d bystander=%d sender=%d lone=%d\n",
           pg, getpgid(lone), switched == 'y' ? "ok" : "EPERM", getpid(), keeper, other, sender, lone);
    printf("parent_uid=%d sender_uid=%d\n", getuid(), switched == 'y' ? 65534 : (int)getuid());
    printf("%s", out);
    printf("got_parent=%d got_keeper=%d got_bystander=%d got_sender=%d got_lone=%d\n",
           sigismember(&mine, SIGTERM), pending_term(keeper), pending_term(other), pending_term(sender),
           pending_term(lone));
    int r = kill(-pg, SIGTERM);                 /* the parent, of the keeper's uid, signals the group */
    printf("parent_kill=%d then_keeper=%d\n", r, pending_term(keeper));
    fflush(stdout);
    pid_t all[] = { keeper, other, sender, lone };
    for (int i = 0; i < 4; i++) { kill(all[i], SIGKILL); waitpid(all[i], NULL, 0); }
    return 0;
}
