// ghost-runner-tray: the menu-bar / system-tray face of Ghost Runner. It runs the engine
// in-process with the daemon's flags and configuration file, or watches a daemon (--attach URL).

#include "engineoptions.h"
#include "secretstore.h"
#include "singleinstance.h"
#include "trayapplication.h"
#include "trayicon.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QSystemTrayIcon>
#include <QTextStream>

namespace {
QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}
int fail(int code, const QString &message)
{
    QTextStream(stderr) << "ghost-runner-tray: " << message << '\n';
    return code;
}
QString defaultConfigFile()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/ghost-runner/ghost-runner.ini");
}
} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ghost-runner-tray"));
    QApplication::setOrganizationName(QStringLiteral("ghost-runner"));
    QApplication::setApplicationVersion(QStringLiteral(GR_VERSION));
    QApplication::setQuitOnLastWindowClosed(false);

    QCommandLineParser p;
    p.setApplicationDescription(
        "The system-tray face of Ghost Runner: runs the engine in-process (same flags and "
        "configuration file as `ghost-runner serve`), or watches a running daemon with --attach.");
    p.addHelpOption();
    p.addVersionOption();
    EngineOptions::addTo(p);
    p.addOption({"attach", "Watch the daemon at URL instead of running an engine.", "URL"});
    p.addOption(
        {"token-file", "Attach mode: bearer token for the daemon's read endpoints.", "FILE"});
    p.addOption({"open-delivery", "Open the deliveries window on delivery ID.", "ID"});
    p.addOption({"show-deliveries", "Open the deliveries window."});
    p.addOption({"settings", "Open the settings dialog."});
    p.addOption({"menu", "Pop the tray menu up at the mouse pointer."});
    p.process(app);

    TrayApplication::Options options;
    QString key;
    if (p.isSet("attach")) {
        options.attachUrl = QUrl(p.value("attach"));
        if (!options.attachUrl.isValid() || options.attachUrl.scheme().isEmpty())
            return fail(2, QStringLiteral("--attach needs a URL such as http://127.0.0.1:5555"));
        if (p.isSet("token-file")) {
            QFile f(p.value("token-file"));
            if (!f.open(QIODevice::ReadOnly))
                return fail(
                    2, QStringLiteral("cannot read %1: %2").arg(f.fileName(), f.errorString()));
            options.token = f.readAll().trimmed();
        }
        key = QStringLiteral("attach ") + options.attachUrl.toString();
    } else {
        // The daemon's configuration file; a tray started with no --config uses (and saves to)
        // the per-user default, so settings survive a restart.
        QString file = p.value("config");
        if (file.isEmpty())
            file = qEnvironmentVariable("GHOST_RUNNER_CONFIG");
        if (file.isEmpty()) {
            file = defaultConfigFile();
            if (QFileInfo::exists(file))
                qputenv("GHOST_RUNNER_CONFIG", QFile::encodeName(file));
        }
        options.configFile = file;
        Result<Config> config = EngineOptions::build(p);
        if (!config.ok())
            return fail(2, config.error().message);
        for (const QString &w : config->warnings)
            QTextStream(stderr) << "ghost-runner-tray: " << w << '\n';
        options.config = *config;
        key = QStringLiteral("engine ") + QDir(options.config.stateDir).absolutePath();
    }

    QString message = QStringLiteral("show");
    if (p.isSet("open-delivery"))
        message = QStringLiteral("open-delivery ") + p.value("open-delivery");
    else if (p.isSet("settings"))
        message = QStringLiteral("settings");
    else if (p.isSet("menu"))
        message = QStringLiteral("menu");
    const bool explicitRequest = p.isSet("open-delivery") || p.isSet("settings") ||
                                 p.isSet("menu") || p.isSet("show-deliveries");

    SingleInstance instance(key);
    if (instance.sendToRunning(message)) {
        out() << "ghost-runner-tray: already running; asked it to " << message << '\n';
        return 0;
    }
    QString error;
    if (!instance.listen(&error))
        QTextStream(stderr) << "ghost-runner-tray: single-instance socket unavailable: " << error
                            << '\n';

    if (!options.attachUrl.isValid() && options.config.secret.isEmpty() &&
        SecretStore::keychainBuiltIn()) {
        QSettings prefs(QSettings::IniFormat, QSettings::UserScope, "ghost-runner", "tray");
        if (prefs.value("secret/in_keychain").toBool()) {
            SecretStore store(options.config.stateDir, QString());
            const Result<QByteArray> secret = store.readKeychain();
            if (secret.ok())
                options.config.secret = *secret;
            else
                QTextStream(stderr) << "ghost-runner-tray: " << secret.error().message << '\n';
        }
    }

    TrayApplication tray(options);
    QObject::connect(&instance, &SingleInstance::messageReceived, &tray,
                     &TrayApplication::handleMessage);
    const Status started = tray.start();
    if (tray.isAttached())
        out() << "watching " << options.attachUrl.toString() << '\n';
    else if (started.ok())
        out() << "listening on http://" << tray.facts().listening << '\n';
    else
        out() << "not running: " << started.error().message << '\n';
    out() << "system tray: "
          << (QSystemTrayIcon::isSystemTrayAvailable() ? "available" : "unavailable") << '\n';
    out().flush();
    if (explicitRequest)
        tray.handleMessage(message);
    return QApplication::exec();
}
