/* attack: #include another student's submission from the batch folder
 * family: read references or hidden checks
 * target: getpid_test
 * expect: does not compile
 */
#include "@SECRET_DIR@/getpid_test.c"
