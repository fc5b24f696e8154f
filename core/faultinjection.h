#pragma once
// Deterministic crash points for the crash-safety tests: when GHOST_RUNNER_CRASH_AT names a
// point, the process dies there with _exit(86), exactly as a kill -9 would leave it; and
// failure points for errors the machine cannot be made to produce on demand (a failed fsync).

class FaultInjection
{
public:
    static void crashPoint(const char *name);
    // True when GHOST_RUNNER_FAIL_AT names this point (read at each call, so that a test can
    // set and clear it): the caller then fails as if the system call had.
    static bool fails(const char *name);
};
