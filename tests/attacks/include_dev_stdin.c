/* attack: #include "/dev/stdin": a header the compiler waits for
 * family: compile-time includes
 * target: getpid_test
 * expect: does not compile|did not finish
 */
#include "/dev/stdin"
