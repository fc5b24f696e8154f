#pragma once
// `ghost-runner status`: a short human summary of a running daemon, or --json.

#include <QStringList>

class StatusCommand
{
public:
    static int run(const QStringList &args);
};
