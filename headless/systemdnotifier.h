#pragma once
// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET (a leading '@' is the abstract
// namespace). Does nothing when the variable is unset.

#include <QByteArray>

class SystemdNotifier
{
public:
    static bool notify(const QByteArray &state);
    // Half of WATCHDOG_USEC in ms, or 0 when the watchdog is off or another process's
    // (WATCHDOG_PID set to another pid).
    static int watchdogIntervalMs();
};
