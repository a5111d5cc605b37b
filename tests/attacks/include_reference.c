/* attack: #include the lab's own reference solution by its absolute path
 * family: read references or hidden checks
 * target: getpid_test
 * expect: does not compile
 */
#include "@CSRC@/programs/getpid_test.c"
