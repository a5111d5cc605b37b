/* attack: #include "/etc/shadow" so the compiler's error shows its lines
 * family: compile-time includes
 * target: getpid_test
 * expect: does not compile
 */
#include "/etc/shadow"
