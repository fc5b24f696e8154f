#pragma once
// `ghost-runner apply`: the executor offline, on a patch file or stdin.

#include <QStringList>

class ApplyCommand
{
public:
    static int run(const QStringList &args);
};
