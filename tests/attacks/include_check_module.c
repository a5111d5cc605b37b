/* attack: #include the exercise's hidden checks (the grader's Python module) to leak them
 * family: read references or hidden checks
 * target: getpid_test
 * expect: does not compile
 */
#include "@PKG@/grading/exercises/getpid_test.py"
int main(void) { return 0; }
