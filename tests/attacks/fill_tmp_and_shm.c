/* attack: fill /tmp, /var/tmp and /dev/shm (and the scratch folder) with files and leave them
 * family: cores and files left in /tmp and /dev/shm
 * target: getpid_test
 * expect: wrote \d+ MiB
 */
#include <stdio.h>
#include <string.h>
int main(void)
{
    static char block[1 << 20];
    const char *dirs[] = {"/tmp", "/var/tmp", "/dev/shm", "/box/work", 0};
    long total = 0;
    memset(block, 'x', sizeof block);
    for (int d = 0; dirs[d]; d++)
        for (int i = 0; i < 5; i++) {
            char name[128];
            snprintf(name, sizeof name, "%s/@MARK@%d", dirs[d], i);
            FILE *f = fopen(name, "w");
            if (!f) break;
            for (int j = 0; j < 4 && fwrite(block, 1, sizeof block, f) == sizeof block; j++)
                total++;
            fclose(f);
        }
    printf("wrote %ld MiB\n", total);
    return 0;
}
