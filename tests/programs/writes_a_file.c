/* writes_a_file - a program that leaves a file in its current folder.
 *
 * Like OSTEP's p4, it redirects its output to "result.txt" in the folder it was
 * started in, relative to its working directory; where that file lands depends on
 * where the program runs, not on where the program is.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    int fd = open("result.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open result.txt");
        return 1;
    }
    const char *text = "written by writes_a_file\n";
    if (write(fd, text, strlen(text)) < 0)
        perror("write");
    close(fd);
    printf("wrote result.txt\n");
    return 0;
}
