#include "servecommand.h"

#include "cliutil.h"
#include "engine.h"
#include "engineoptions.h"
#include "logoutput.h"
#include "signalhandler.h"
#include "systemdnotifier.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

int ServeCommand::run(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        "Run the Ghost Runner daemon: receive patches on POST /webhook, journal them, apply them\n"
        "to the workspace (or forward them to a runner) and confirm each in the log.");
    p.addHelpOption();
    p.addVersionOption();
    EngineOptions::addTo(p);
    p.addOption({"print-config", "Print the effective configuration (secrets masked) and exit."});
    p.addOption({"log-format", "Log lines as text (default) or json.", "FORMAT"});
    if (!Cli::parse(p, args))
        return Cli::UsageError;
    Result<Config> config = EngineOptions::build(p);
    if (!config.ok())
        return Cli::fail(Cli::UsageError, config.error().message);
    if (p.isSet("log-format")) {
        if (Status s = config->set("log.format", p.value("log-format"), "--log-format"); !s.ok())
            return Cli::fail(Cli::UsageError, s.error().message);
    }
    for (const QString &w : config->warnings)
        Cli::warn(w);
    if (p.isSet("print-config")) {
        Cli::out() << config->toIni();
        return Cli::Ok;
    }
    LogOutput::install(config->logFormat);

    // Installed before the listening line, so a SIGTERM right after it is handled.
    SignalHandler unixSignals;
    Engine engine(*config);
    if (Status s = engine.start(); !s.ok())
        return Cli::fail(Cli::CannotStart, s.error().message);

    const QString where = engine.executesPatches()
                              ? QStringLiteral("workspace %1").arg(engine.config().workspace)
                              : QStringLiteral("runner %1").arg(engine.config().runnerUrl);
    Cli::out() << QStringLiteral("listening on http://%1 (role %2, %3)\n")
                      .arg(engine.listeningAddress(), config->role, where);
    Cli::out().flush();
    SystemdNotifier::notify("READY=1\nSTATUS=listening on " + engine.listeningAddress().toUtf8());

    QTimer watchdog;
    if (const int ms = SystemdNotifier::watchdogIntervalMs(); ms > 0) {
        QObject::connect(&watchdog, &QTimer::timeout,
                         [] { SystemdNotifier::notify("WATCHDOG=1"); });
        watchdog.start(ms);
    }

    int exitCode = Cli::Ok;
    QObject::connect(&unixSignals, &SignalHandler::terminate, [&](int sig) {
        qInfo("signal %d: stopping intake and finishing the delivery in progress", sig);
        SystemdNotifier::notify("STOPPING=1");
        engine.stop();
        QCoreApplication::exit(exitCode);
    });
    QObject::connect(&unixSignals, &SignalHandler::reload, [&] {
        // The file and the secret are read again; flags still win over both.
        Result<Config> next = EngineOptions::build(p);
        if (next.ok() && p.isSet("log-format"))
            (void)next->set("log.format", p.value("log-format"), "--log-format");
        if (!next.ok()) {
            qCritical("SIGHUP: the new configuration is invalid, keeping the old one: %s",
                      qPrintable(next.error().message));
            return;
        }
        for (const QString &w : next->warnings)
            qWarning("SIGHUP: %s", qPrintable(w));
        if (Status s = engine.reload(*next); !s.ok()) {
            qCritical("SIGHUP: reload refused, keeping the old configuration: %s",
                      qPrintable(s.error().message));
            return;
        }
        LogOutput::install(next->logFormat);
        SystemdNotifier::notify("READY=1\nSTATUS=reloaded; listening on " +
                                engine.listeningAddress().toUtf8());
    });
    return QCoreApplication::exec();
}
