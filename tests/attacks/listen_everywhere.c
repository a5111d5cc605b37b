/* attack: listen on 0.0.0.0 (reachable from the network?) and say the port, then wait
 * family: listeners and outgoing connections
 * target: getpid_test
 * expect: listening on \d+
 * wall: 0.5
 */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    bind(s, (struct sockaddr *)&a, sizeof a);
    listen(s, 8);
    getsockname(s, (struct sockaddr *)&a, &len);
    printf("listening on %d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) { int c = accept(s, 0, 0); if (c >= 0) { (void)!write(c, "owned\n", 6); close(c); } }
}
