/* spawn - posix_spawn does fork + exec's job in one call, and reports a failed exec
 * as its own return value.
 *
 * Usage: spawn [PROGRAM [ARGS...]]. Without arguments it spawns `sh -c 'exit 127'`
 * and a program that does not exist, the cases exec_demo tells apart with a pipe.
 * A file action (posix_spawn_file_actions_adddup2) points the new program's stdout
 * at stderr, the kind of set-up a forked child would do before exec. Look for: the
 * missing program gives "posix_spawn returned ENOENT" and no child to wait for (glibc
 * waits for the exec, so it knows; POSIX also allows a child that exits 127), while
 * `exit 127` is spawned fine and its status says 127.
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

extern char **environ;

static void spawn(char *argv[])
{
    posix_spawn_file_actions_t actions;
    int rc, status;
    pid_t pid;

    /* like posix_spawn, these return an error number (0: fine), not -1 with errno */
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO)) != 0) {
        errno = rc;
        err_exit("posix_spawn_file_actions");
    }
    fflush(stdout);             /* no fork copy of our buffer here, but keep order */
    rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    printf("[");
    for (char **a = argv; *a; a++)
        printf("%s%s", *a, a[1] ? " " : "] ");
    if (rc != 0) {              /* the exec's error number */
        printf("posix_spawn returned %s (%s): no child to wait for\n", strerrorname_np(rc), strerror(rc));
        return;
    }
    if (waitpid(pid, &status, 0) < 0)
        err_exit("waitpid");
    printf("posix_spawn returned 0, pid %d; ", pid);
    if (WIFEXITED(status))
        printf("it exited with %d\n", WEXITSTATUS(status));
    else
        printf("it was killed by signal %d\n", WTERMSIG(status));
}

int main(int argc, char *argv[])
{
    char *exits127[] = {"sh", "-c", "echo this went to stderr; exit 127", NULL};
    char *missing[] = {"/nonexistent/program", NULL};

    if (argc > 1) {
        spawn(argv + 1);
        return 0;
    }
    spawn(exits127);
    spawn(missing);
    return 0;
}
