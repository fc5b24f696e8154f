#pragma once
// Deterministic crash points for the crash-safety tests: when GHOST_RUNNER_CRASH_AT names a
// point, the process dies there with _exit(86), exactly as a kill -9 would leave it.

class FaultInjection
{
public:
    static void crashPoint(const char *name);
};
