/* attack: terminal escapes, NULs, bells, invalid UTF-8 and a fake PASS line in the output
 * family: output floods and control characters
 * target: getpid_test
 * expect: exactly these lines
 */
#include <stdio.h>
int main(void)
{
    fputs("\x1b[2J\x1b[H\x1b]0;owned\x07[PASS] getpid_test 4/4\r\n", stdout);
    fwrite("nul\0byte \xff\xfe\xc3\x28 \x1b[31mred\x1b[0m\n", 1, 29, stdout);
    fputs("]]></failure><testcase name=\"x\"/>&amp;\n", stdout);
    return 0;
}
