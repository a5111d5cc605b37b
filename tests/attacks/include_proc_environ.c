/* attack: #include the compiler's own /proc/self/environ and /proc/1/cmdline to see
 *         what the grader passed in
 * family: compile-time includes
 * target: getpid_test
 * expect: does not compile
 */
#include "/proc/self/environ"
#include "/proc/1/cmdline"
