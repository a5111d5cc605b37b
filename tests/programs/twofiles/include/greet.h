/* greet.h - what twofiles' two files share. */
#ifndef GREET_H
#define GREET_H

#define ANSWER 42
const char *greeting(void);

#endif
