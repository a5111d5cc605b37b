/* attack: #include __FILE__: a file that includes itself until the compiler gives up
 * family: compile-time includes
 * target: getpid_test
 * expect: does not compile
 */
#include __FILE__
int main(void) { return 0; }
