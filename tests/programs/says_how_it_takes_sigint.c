/* Says how this process takes SIGINT and SIGQUIT when it starts: "default" or "ignored"
 * (a shell's background job inherits them ignored; a handler never survives exec). */
#include <signal.h>
#include <stdio.h>

static const char *how(int sig)
{
    struct sigaction sa;
    sigaction(sig, NULL, &sa);
    return sa.sa_handler == SIG_IGN ? "ignored" : sa.sa_handler == SIG_DFL ? "default" : "caught";
}

int main(void)
{
    printf("SIGINT %s\nSIGQUIT %s\n", how(SIGINT), how(SIGQUIT));
    return 0;
}
