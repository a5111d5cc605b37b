/* rlimit_names.h - the resource of a NAME=VALUE limit spec ("nproc=16"), for the
 * supervisor (soft limits of a run) and the grading jail (hard limits of a sandbox).
 */
#ifndef PYLAB_RLIMIT_NAMES_H
#define PYLAB_RLIMIT_NAMES_H

#include <string.h>
#include <sys/resource.h>

/* The RLIMIT_ of the name before spec's '=', or -1 (no '=', or a name not listed). */
static inline int rlimit_of(const char *spec)
{
    static const struct { const char *name; int res; } names[] = {
        {"cpu", RLIMIT_CPU}, {"as", RLIMIT_AS}, {"fsize", RLIMIT_FSIZE},
        {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"core", RLIMIT_CORE},
        {"stack", RLIMIT_STACK}, {"data", RLIMIT_DATA}, {"memlock", RLIMIT_MEMLOCK},
        {"msgqueue", RLIMIT_MSGQUEUE}, {"sigpending", RLIMIT_SIGPENDING},
    };
    const char *eq = strchr(spec, '=');
    for (size_t i = 0; eq && i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(spec, names[i].name, (size_t)(eq - spec)) && !names[i].name[eq - spec])
            return names[i].res;
    return -1;
}

#endif
