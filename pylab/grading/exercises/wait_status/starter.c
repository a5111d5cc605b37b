/* wait_status.c - end children each way; decode each wait status. See wait_status.md.
 *
 * One line per case:  LABEL raw=0xHHHH DECODED
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *label, int raw)
{
    printf("%s raw=0x%04x ", label, raw);
    /* TODO: WIFEXITED -> "WIFEXITED WEXITSTATUS=%d\n", WIFSIGNALED -> "WIFSIGNALED WTERMSIG=%d\n",
     *       WIFSTOPPED -> "WIFSTOPPED WSTOPSIG=%d\n", WIFCONTINUED -> "WIFCONTINUED\n" */
    printf("\n");
}

int main(void)
{
    /* TODO: for each case (return7 exit3 exit256 exit-1 SIGTERM SIGSEGV): fflush(stdout),
     *       fork, end the child that way, waitpid it in the parent, show(label, status) */
    /* TODO: a child that blocks (e.g. reading a pipe): SIGSTOP + waitpid(WUNTRACED) -> show("SIGSTOP"),
     *       SIGCONT + waitpid(WCONTINUED) -> show("SIGCONT"); then let it end and reap it */
    show("return7", 0);
    return 0;
}
