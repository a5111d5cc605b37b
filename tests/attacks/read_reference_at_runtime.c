/* attack: read the reference and the checks at run time and print them
 * family: read references or hidden checks
 * target: getpid_test
 * expect: cannot open
 */
#include <stdio.h>
int main(void)
{
    const char *paths[] = {"@CSRC@/programs/getpid_test.c", "@PKG@/grading/exercises/getpid_test.py",
                           "@SECRET_DIR@/getpid_test.c", "/etc/shadow", "/root/.bash_history", 0};
    char buf[4096];
    for (int i = 0; paths[i]; i++) {
        FILE *f = fopen(paths[i], "r");
        if (!f) { printf("cannot open %s\n", paths[i]); continue; }
        size_t n = fread(buf, 1, sizeof buf, f);
        fwrite(buf, 1, n, stdout);
        fclose(f);
    }
    return 0;
}
