/* greet.c - the second file of twofiles: the function main.c calls. */
#include "greet.h"

#ifndef GREETING
#define GREETING "hello from greet.c"
#endif

const char *greeting(void)
{
    return GREETING;
}
