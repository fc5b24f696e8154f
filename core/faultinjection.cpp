#include "faultinjection.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

void FaultInjection::crashPoint(const char *name)
{
    static const char *armed = std::getenv("GHOST_RUNNER_CRASH_AT");
    if (armed && std::strcmp(armed, name) == 0) {
        std::fprintf(stderr, "ghost-runner: crash injected at %s\n", name);
        std::fflush(stderr);
        _exit(86);
    }
}

bool FaultInjection::fails(const char *name)
{
    const char *armed = std::getenv("GHOST_RUNNER_FAIL_AT");
    return armed && std::strcmp(armed, name) == 0;
}
