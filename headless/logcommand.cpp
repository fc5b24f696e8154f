#include "logcommand.h"

#include "cliutil.h"
#include "config.h"
#include "outcomeprinter.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QFileSystemWatcher>
#include <QJsonDocument>
#include <QProcessEnvironment>

namespace {
void printLines(QByteArray &pending, bool json)
{
    qsizetype nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
        const QByteArray line = pending.left(nl);
        pending.remove(0, nl + 1);
        if (line.trimmed().isEmpty())
            continue;
        if (json) {
            Cli::out() << line << '\n';
            continue;
        }
        const QJsonDocument doc = QJsonDocument::fromJson(line);
        if (doc.isObject())
            OutcomePrinter::print(Cli::out(), doc.object(), true);
        else
            Cli::out() << "(unreadable line) " << line << '\n';
    }
    Cli::out().flush();
}
} // namespace

int LogCommand::run(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription("Print the delivery confirmation log: one line per outcome.");
    p.addHelpOption();
    p.addVersionOption();
    p.addOption({"state-dir", "The daemon's state directory.", "DIR"});
    p.addOption({"config", "Take the state directory from this configuration file.", "FILE"});
    p.addOption({"follow", "Keep printing lines as they are appended (like tail -f)."});
    p.addOption({{"n", "lines"}, "Only the last N lines.", "N"});
    p.addOption({"json", "Print the raw JSON lines."});
    if (!Cli::parse(p, args))
        return Cli::UsageError;
    Config c;
    if (Status s = c.loadFileAndEnvironment(p.value("config")); !s.ok())
        return Cli::fail(Cli::UsageError, s.error().message);
    if (p.isSet("state-dir"))
        c.stateDir = p.value("state-dir");
    if (c.stateDir.isEmpty())
        c.stateDir = c.defaultStateDir();
    const QString path = c.stateDir + QStringLiteral("/logs/delivery-confirmation.log");
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Cli::fail(
            Cli::Failed,
            QStringLiteral("cannot read %1: %2 (pass --state-dir DIR)").arg(path, f.errorString()));
    QByteArray pending = f.readAll();
    if (p.isSet("lines")) {
        const int n = p.value("lines").toInt();
        QList<QByteArray> lines = pending.split('\n');
        if (!lines.isEmpty() && lines.last().isEmpty())
            lines.removeLast();
        pending = lines.mid(qMax<qsizetype>(0, lines.size() - n)).join('\n') + '\n';
    }
    const bool json = p.isSet("json");
    printLines(pending, json);
    if (!p.isSet("follow"))
        return Cli::Ok;
    // inotify/kqueue wake us on appends: no polling.
    QFileSystemWatcher watcher({path});
    QObject::connect(&watcher, &QFileSystemWatcher::fileChanged, [&] {
        pending += f.readAll();
        printLines(pending, json);
        if (!watcher.files().contains(path))
            watcher.addPath(path);
    });
    return QCoreApplication::exec();
}
