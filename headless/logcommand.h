#pragma once
// `ghost-runner log`: the confirmation log, pretty-printed (coloured on a terminal unless
// NO_COLOR), raw with --json, and followed with --follow.

#include <QStringList>

class LogCommand
{
public:
    static int run(const QStringList &args);
};
