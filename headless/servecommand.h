#pragma once
// `ghost-runner serve`: run the engine as a daemon until SIGTERM/SIGINT.

#include <QStringList>

class ServeCommand
{
public:
    static int run(const QStringList &args);
};
