/* probe system: system() and the shell it runs: how do they create processes? */
#include <stdlib.h>
int main(void)
{
    return system("/bin/true; /bin/true");
}
