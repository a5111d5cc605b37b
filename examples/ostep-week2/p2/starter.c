#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    /* TODO: print hello world, fork, let the parent wait for the child */
    return 0;
}
