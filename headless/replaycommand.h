#pragma once
// `ghost-runner replay`: deliver a finished or dead delivery again, as a new linked delivery.

#include <QStringList>

class ReplayCommand
{
public:
    static int run(const QStringList &args);
};
