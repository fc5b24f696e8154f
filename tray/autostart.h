#pragma once
// "Start at login": a LaunchAgent on macOS (~/Library/LaunchAgents), an XDG autostart entry on
// Linux ($XDG_CONFIG_HOME/autostart). The file is the state: no setting duplicates it.

#include "result.h"

#include <QString>
#include <QStringList>

class Autostart
{
public:
    static QString entryPath();
    static bool isEnabled();
    // program: the absolute path of ghost-runner-tray; arguments: what it is started with.
    static Status setEnabled(bool enabled, const QString &program, const QStringList &arguments);
    // The file's text (tests and the dialog's "what will be written").
    static QString entryText(const QString &program, const QStringList &arguments);
};
