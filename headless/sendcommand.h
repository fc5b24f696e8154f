#pragma once
// `ghost-runner send`: post a patch to a running daemon, signed when a secret is configured.

#include <QStringList>

class SendCommand
{
public:
    static int run(const QStringList &args);
};
