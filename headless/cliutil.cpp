#include "cliutil.h"

#include <QCoreApplication>
#include <cstdio>
#include <cstdlib>

namespace Cli {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

QTextStream &err()
{
    static QTextStream s(stderr);
    return s;
}

int fail(int code, const QString &message)
{
    out().flush();
    err() << "ghost-runner: " << message << '\n';
    err().flush();
    return code;
}

void warn(const QString &message)
{
    err() << "ghost-runner: warning: " << message << '\n';
    err().flush();
}

bool parse(QCommandLineParser &parser, const QStringList &args)
{
    // "ghost-runner serve …": parse as if the subcommand were the program.
    QStringList a = args;
    if (a.size() >= 2) {
        a[0] = a[0] + ' ' + a[1];
        a.removeAt(1);
    }
    if (!parser.parse(a)) {
        fail(UsageError, parser.errorText() + QStringLiteral(" (see --help)"));
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QString help = parser.helpText();
        const qsizetype options = help.indexOf(QLatin1Char(' '), 7);
        if (args.size() >= 2 && help.startsWith(QLatin1String("Usage: ")) && options > 0)
            help.replace(0, options, QStringLiteral("Usage: ghost-runner ") + args[1]);
        out() << help;
        out().flush();
        std::exit(Ok);
    }
    if (parser.isSet(QStringLiteral("version"))) {
        out() << "ghost-runner " << GR_VERSION << '\n';
        out().flush();
        std::exit(Ok);
    }
    return true;
}

} // namespace Cli
