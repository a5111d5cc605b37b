/* probe abi: the sizes and system-call numbers of this machine's C ABI, and which C type
 * pid_t is: the same type as int or long (__builtin_types_compatible_p), and the type
 * _Generic picks for it (two types of one size and signedness are still two types). */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#ifndef SYS_fork
#define SYS_fork -1
#endif
#ifndef SYS_vfork
#define SYS_vfork -1
#endif
#ifndef SYS_clone3
#define SYS_clone3 -1
#endif
int main(void)
{
    printf("sizeof_pid_t=%zu sizeof_int=%zu pid_t_signed=%d sizeof_long=%zu\n",
           sizeof(pid_t), sizeof(int), (pid_t)-1 < 0, sizeof(long));
#define TYPE_NAME(x) _Generic((x), short: "short", int: "int", long: "long", long long: "long long", \
                                 default: "another type")
    printf("pid_t_is_int=%d pid_t_is_long=%d pid_t_generic=%s\n", __builtin_types_compatible_p(pid_t, int),
           __builtin_types_compatible_p(pid_t, long), TYPE_NAME((pid_t)0));
    printf("fork=%d vfork=%d clone=%d clone3=%d exit=%d exit_group=%d getpid=%d\n",
           SYS_fork, SYS_vfork, SYS_clone, SYS_clone3, SYS_exit, SYS_exit_group, SYS_getpid);
    return 0;
}
