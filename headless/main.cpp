// ghost-runner: the headless daemon and command-line tool. Each subcommand is a small class;
// everything they do lives in the core library.

#include "applycommand.h"
#include "cliutil.h"
#include "doctorcommand.h"
#include "logcommand.h"
#include "replaycommand.h"
#include "sendcommand.h"
#include "servecommand.h"
#include "statuscommand.h"

#include <QCoreApplication>
#include <functional>

namespace {
struct Subcommand
{
    const char *name;
    const char *summary;
    std::function<int(const QStringList &)> run;
};

const QList<Subcommand> &subcommands()
{
    static const QList<Subcommand> list{
        {"serve", "run the daemon (intake, journal, executor or relay)", ServeCommand::run},
        {"apply", "apply a patch file to a workspace, offline", ApplyCommand::run},
        {"send", "send a patch to a running daemon (signed with the secret)", SendCommand::run},
        {"status", "show a running daemon's health", StatusCommand::run},
        {"doctor", "check every link: config, port, daemon, workspace, runner, canary",
         DoctorCommand::run},
        {"log", "print (or --follow) the delivery confirmation log", LogCommand::run},
        {"replay", "deliver a finished or dead delivery again", ReplayCommand::run},
    };
    return list;
}

void usage(QTextStream &s)
{
    s << "Usage: ghost-runner COMMAND [options]\n\n"
         "Receives code patches over a webhook, applies them to a workspace, and confirms\n"
         "every delivery in a log. Commands:\n";
    for (const Subcommand &c : subcommands())
        s << "  " << QString::fromLatin1(c.name).leftJustified(8) << c.summary << '\n';
    s << "\nRun 'ghost-runner COMMAND --help' for a command's options.\n";
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ghost-runner"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GR_VERSION));
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 2) {
        usage(Cli::err());
        return Cli::UsageError;
    }
    const QString cmd = args.at(1);
    if (cmd == QLatin1String("--help") || cmd == QLatin1String("-h") ||
        cmd == QLatin1String("help")) {
        usage(Cli::out());
        return Cli::Ok;
    }
    if (cmd == QLatin1String("--version") || cmd == QLatin1String("-v")) {
        Cli::out() << "ghost-runner " << GR_VERSION << '\n';
        return Cli::Ok;
    }
    for (const Subcommand &c : subcommands()) {
        if (cmd == QLatin1String(c.name))
            return c.run(args);
    }
    return Cli::fail(Cli::UsageError,
                     QStringLiteral("unknown command \"%1\"; run 'ghost-runner --help'").arg(cmd));
}
