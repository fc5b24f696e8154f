#pragma once
// Where the daemon's log lines go: stderr, as text or as one JSON object per line (--log-format
// json), each with its category; levels per category follow QT_LOGGING_RULES.

#include <QString>

class LogOutput
{
public:
    static void install(const QString &format); // "text" or "json"
};
