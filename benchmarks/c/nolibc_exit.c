/* nolibc_exit - a program with no C library at all: _start makes the exit system call.
 *
 * Not a lesson: benchmarks/runner_breakdown.py execs it to show what an exec costs here
 * without the C library's start-up (x86-64 Linux only; built -nostdlib -static).
 */
void _start(void)
{
    __asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");   /* exit(0) */
    for (;;)
        ;
}
