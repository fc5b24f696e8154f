#pragma once
// The engine flags that `ghost-runner serve` and `ghost-runner-tray` share (SPEC.md), and the
// one place that layers defaults < config file < environment < flags into a Config.

#include "config.h"

#include <QCommandLineParser>

class EngineOptions
{
public:
    // --config --bind --port --workspace --state-dir --role --runner-url --secret-file
    static void addTo(QCommandLineParser &parser);
    // The config file comes from --config, else GHOST_RUNNER_CONFIG, else none.
    static Result<Config> build(const QCommandLineParser &parser);
};
