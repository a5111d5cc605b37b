/* cpuid_cost - what one CPUID instruction costs on this machine, in nanoseconds.
 *
 * Not a lesson: in a virtual machine CPUID traps to the hypervisor, and glibc runs it
 * dozens of times at every program's start-up (CPU features, cache sizes), so its price
 * is part of every exec. benchmarks/runner_breakdown.py prints it. x86 only.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec a, b;
    enum { N = 2000 };
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < N; i++) {
        unsigned eax = 0, ebx, ecx = 0, edx;
        __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / N);
    return 0;
}
