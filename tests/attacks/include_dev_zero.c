/* attack: #include "/dev/zero": an endless header for the compiler
 * family: compile-time includes
 * target: getpid_test
 * expect: does not compile|did not finish
 */
#include "/dev/zero"
