#pragma once
// What every subcommand shares: exit codes (SPEC.md), one-line errors on stderr, stdout.

#include <QCommandLineParser>
#include <QTextStream>

namespace Cli {
enum ExitCode { Ok = 0, Failed = 1, UsageError = 2, CannotStart = 3 };

QTextStream &out();
QTextStream &err();
// Prints "ghost-runner: message" on stderr and returns code.
int fail(int code, const QString &message);
void warn(const QString &message);
// Parses args (args[0] is the program, args[1] the subcommand); handles --help/--version.
// False on a usage error (already reported).
bool parse(QCommandLineParser &parser, const QStringList &args);
} // namespace Cli
