#pragma once
// `ghost-runner doctor`: checks each link of the chain — configuration, port, daemon health,
// workspace and state, the runner (relay role), and a canary through everything — printing one
// PASS/FAIL/WARN line per check and, on failure, the fix. Exit 0 when nothing failed.

#include <QJsonObject>
#include <QList>
#include <QStringList>

class DoctorCommand
{
public:
    static int run(const QStringList &args);
};
