#include "doctorcommand.h"

#include "clientoptions.h"
#include "cliutil.h"
#include "deliveryjournal.h"
#include "httpclient.h"
#include "outcomeprinter.h"
#include "portowner.h"
#include "selftest.h"
#include "signer.h"
#include "workspace.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QUuid>
#include <cstdio>

namespace {

struct Check
{
    QString name;
    QString status; // PASS FAIL WARN SKIP
    QString message;
    QString fix;
};

class Report
{
public:
    explicit Report(bool json) : m_json(json) {}
    void add(const QString &name, const QString &status, const QString &message,
             const QString &fix = QString())
    {
        m_checks.append({name, status, message, fix});
        if (m_json)
            return;
        const bool color = OutcomePrinter::useColor(stdout);
        const char *code = status == "PASS" ? "32" : status == "FAIL" ? "31" : "33";
        const QString tag =
            color ? QStringLiteral("\033[%1m%2\033[0m").arg(QLatin1String(code), status) : status;
        Cli::out() << tag << "  " << name << ": " << message << '\n';
        if (!fix.isEmpty())
            Cli::out() << "      fix: " << fix << '\n';
        Cli::out().flush();
    }
    bool failed() const
    {
        for (const Check &c : m_checks) {
            if (c.status == "FAIL")
                return true;
        }
        return false;
    }
    void finish() const
    {
        if (!m_json) {
            Cli::out() << (failed() ? "\nSome checks failed; see the fixes above.\n"
                                    : "\nAll checks passed.\n");
            return;
        }
        QJsonArray checks;
        for (const Check &c : m_checks) {
            QJsonObject o{
                {"check", c.name}, {"status", c.status.toLower()}, {"message", c.message}};
            if (!c.fix.isEmpty())
                o.insert("fix", c.fix);
            checks.append(o);
        }
        Cli::out() << QJsonDocument(QJsonObject{{"ok", !failed()}, {"checks", checks}})
                          .toJson(QJsonDocument::Indented);
    }

private:
    bool m_json;
    QList<Check> m_checks;
};

} // namespace

int DoctorCommand::run(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        "Check every link of the chain: configuration, port, daemon health, workspace and\n"
        "state directory, the runner (relay role), and a dry-run canary through everything.\n"
        "Exit 0 when all checks pass (warnings allowed), 1 otherwise.");
    p.addHelpOption();
    p.addVersionOption();
    ClientOptions::addTo(p);
    p.addOption({"json", "Print the checks as JSON."});
    p.addOption({"timeout", "Seconds to wait for the canary (default 10).", "S", "10"});
    if (!Cli::parse(p, args))
        return Cli::UsageError;
    Report report(p.isSet("json"));
    const int timeoutMs = qBound(1, p.value("timeout").toInt(), 300) * 1000;

    // 1. Configuration.
    const Result<ClientTarget> target = ClientOptions::resolve(p);
    if (!target.ok()) {
        report.add("config", "FAIL", target.error().message,
                   "correct the file (keys and defaults: docs/configuration.md)");
        report.finish();
        return Cli::Failed;
    }
    Config validated = target->config;
    if (Status s = validated.finalize(); !s.ok())
        report.add("config", "FAIL", s.error().message, "correct the configuration");
    else
        report.add("config", "PASS",
                   target->config.configFile.isEmpty()
                       ? QStringLiteral("no configuration file; defaults and environment")
                       : QStringLiteral("%1 is valid").arg(target->config.configFile));
    for (const QString &w : target->config.warnings)
        report.add("config", "WARN", w, "remove or rename the key");

    const QUrl base = target->baseUrl;
    const QString host = base.host();
    const quint16 port = quint16(base.port(80));

    // 2. The port: free, held by us, or held by something else.
    const QHostAddress address(host == "localhost" ? QStringLiteral("127.0.0.1") : host);
    const bool local =
        !address.isNull() && (address.isLoopback() || address == QHostAddress::AnyIPv4);
    if (!local) {
        report.add("port", "SKIP", QStringLiteral("%1 is not this machine").arg(host));
    } else {
        QTcpServer probe;
        if (probe.listen(address, port)) {
            probe.close();
            report.add(
                "port", "FAIL",
                QStringLiteral("nothing listens on %1:%2: the daemon is not running")
                    .arg(address.toString())
                    .arg(port),
                QStringLiteral("start it: ghost-runner serve --port %1 (or ./dev run)").arg(port));
        } else {
            const auto owner = PortOwner::find(port);
            if (!owner || owner->pid == 0)
                report.add("port", "WARN",
                           QStringLiteral("%1:%2 is held by a process this user cannot inspect")
                               .arg(address.toString())
                               .arg(port));
            else if (owner->name.startsWith("ghost-runner"))
                report.add("port", "PASS",
                           QStringLiteral("%1:%2 is held by %3 (pid %4)")
                               .arg(address.toString())
                               .arg(port)
                               .arg(owner->name)
                               .arg(owner->pid));
            else
                report.add("port", "FAIL",
                           QStringLiteral("%1:%2 is held by %3 (pid %4: %5), not ghost-runner")
                               .arg(address.toString())
                               .arg(port)
                               .arg(owner->name)
                               .arg(owner->pid)
                               .arg(owner->commandLine.left(80)),
                           QStringLiteral("stop that process, or run ghost-runner on another port "
                                          "(server.port / --port)"));
        }
    }

    // 3. The daemon's own health report.
    QUrl healthUrl = base;
    healthUrl.setPath(base.path() + "/health");
    const Result<HttpAnswer> health = HttpClient::request("GET", healthUrl, {}, {}, 5000);
    QJsonObject h;
    if (!health.ok()) {
        report.add("daemon", "FAIL", health.error().message,
                   "start the daemon (ghost-runner serve), or pass --url where it listens");
    } else if (!health->json.contains("components")) {
        report.add("daemon", "FAIL",
                   QStringLiteral("%1 answered HTTP %2, but not with a Ghost Runner health report")
                       .arg(healthUrl.toString())
                       .arg(health->status),
                   "another program holds this address; see the port check");
    } else {
        h = health->json;
        const QString overall = h.value("status").toString();
        report.add("daemon",
                   overall == "ok"         ? "PASS"
                   : overall == "degraded" ? "WARN"
                                           : "FAIL",
                   QStringLiteral("%1 answers /health: %2 (role %3, version %4)")
                       .arg(base.toString(), overall, h.value("role").toString(),
                            h.value("version").toString()),
                   overall == "ok" ? QString() : QStringLiteral("see the component lines below"));
        const QJsonObject comps = h.value("components").toObject();
        for (auto it = comps.constBegin(); it != comps.constEnd(); ++it) {
            const QJsonObject c = it.value().toObject();
            const QString st = c.value("status").toString();
            if (st != "ok")
                report.add(it.key(), st == "degraded" ? "WARN" : "FAIL",
                           c.value("message").toString(st));
        }
    }

    // 4. Workspace, state directory and journal, as the daemon reports them.
    const QJsonObject comps = h.value("components").toObject();
    const QJsonObject executor = comps.value("executor").toObject();
    if (!executor.isEmpty()) {
        const QString ws = executor.value("workspace").toString();
        const bool daemonWritable = executor.value("writable").toBool();
        Status localCheck = QFileInfo(ws).isDir() ? Workspace(ws).checkWritable() : Status();
        // The reason already names the workspace ("workspace W is not writable: why").
        if (!daemonWritable || !localCheck.ok())
            report.add("workspace", "FAIL",
                       !localCheck.ok()
                           ? localCheck.error().message
                           : executor.value("message").toString(
                                 QStringLiteral("%1 is not writable by the daemon").arg(ws)),
                       QStringLiteral("make it writable by the daemon's user (check mounts, "
                                      "permissions and the unit's ReadWritePaths)"));
        else
            report.add("workspace", "PASS", QStringLiteral("%1 is writable").arg(ws));
    } else if (h.value("role").toString() == QLatin1String("relay")) {
        report.add("workspace", "SKIP", "a relay has no workspace");
    }
    QString stateDir;
    const QString journalPath = comps.value("journal").toObject().value("path").toString();
    if (!journalPath.isEmpty())
        stateDir = QFileInfo(journalPath).absolutePath();
    else if (!health.ok())
        stateDir = target->config.stateDir;
    if (!stateDir.isEmpty() && QFileInfo(stateDir + "/journal.sqlite").isFile()) {
        DeliveryJournal journal;
        const Status opened = journal.open(stateDir + "/journal.sqlite");
        const QFileInfo dir(stateDir);
        if (!opened.ok())
            report.add("journal", "FAIL", opened.error().message,
                       "check the state directory's permissions and free space");
        else if (!dir.isWritable())
            report.add("state", "FAIL", QStringLiteral("%1 is not writable").arg(stateDir),
                       "make the state directory writable by the daemon's user");
        else
            report.add("journal", "PASS",
                       QStringLiteral("%1 is readable: %2 deliveries, %3 unfinished")
                           .arg(journal.path())
                           .arg([&] {
                               qint64 n = 0;
                               for (qint64 v : journal.countsByStatus())
                                   n += v;
                               return n;
                           }())
                           .arg(journal.pendingCount()));
    } else if (!stateDir.isEmpty()) {
        report.add("journal", "WARN", QStringLiteral("no journal in %1 yet").arg(stateDir));
    }

    // 5. The runner, in the relay role: reachable, and accepting our signature.
    const QJsonObject forwarder = comps.value("forwarder").toObject();
    if (!forwarder.isEmpty()) {
        const QString runner = forwarder.value("runner_url").toString();
        const Result<HttpAnswer> rh =
            HttpClient::request("GET", QUrl(runner + "/health"), {}, {}, 5000);
        if (!rh.ok()) {
            report.add("runner", "FAIL", rh.error().message,
                       QStringLiteral("start the runner (ghost-runner serve --role runner) or fix "
                                      "relay.runner_url"));
        } else {
            const QString id =
                "ghost-runner-doctor-" + QUuid::createUuid().toString(QUuid::WithoutBraces);
            const QByteArray body = SelfTest::canaryEnvelope(id);
            auto headers = ClientOptions::authHeaders(target->secret, body);
            headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
            const Result<HttpAnswer> probe =
                HttpClient::request("POST", QUrl(runner + "/patch?wait=5"), body, headers, 10000);
            if (probe.ok() && (probe->status == 401 || probe->status == 403))
                report.add("runner", "FAIL",
                           QStringLiteral("%1 refuses our signature (%2 %3)")
                               .arg(runner)
                               .arg(probe->status)
                               .arg(probe->json["error"].toObject()["code"].toString()),
                           "give the relay, the runner and this command the same secret "
                           "(--secret-file)");
            else if (!probe.ok() || probe->status >= 400)
                report.add("runner", "FAIL",
                           QStringLiteral("%1 did not accept a dry-run patch: %2")
                               .arg(runner, probe.ok() ? QString::number(probe->status)
                                                       : probe.error().message),
                           "see the runner's own doctor output");
            else
                report.add("runner", "PASS",
                           QStringLiteral("%1 is reachable and accepts our signature").arg(runner));
        }
    }

    // 6. The canary, through the whole chain, confirmed in the log.
    if (!health.ok()) {
        report.add("canary", "SKIP", "the daemon does not answer");
    } else if (h.isEmpty()) {
        report.add("canary", "SKIP",
                   QStringLiteral("no Ghost Runner answers at %1").arg(base.toString()));
    } else {
        const QString logPath =
            stateDir.isEmpty() ? QString() : stateDir + "/logs/delivery-confirmation.log";
        SelfTest test(base, target->secret,
                      QFileInfo::exists(logPath) || !stateDir.isEmpty() ? logPath : QString());
        bool ok = false;
        QString message;
        QObject::connect(&test, &SelfTest::finished, [&](bool passed, const QString &m) {
            ok = passed;
            message = m;
            QCoreApplication::exit(0);
        });
        test.start(timeoutMs);
        QCoreApplication::exec();
        QString fix;
        if (!ok && message.contains("not executed"))
            fix = QStringLiteral("the chain journals deliveries but does not execute them: fix "
                                 "the failed checks above (runner, executor), then see "
                                 "GET /deliveries/%1")
                      .arg(test.deliveryId());
        else if (!ok && message.contains("signature"))
            fix = QStringLiteral("the secret given to doctor (--secret-file) differs from the "
                                 "daemon's; use the same file");
        else if (!ok)
            fix = QStringLiteral("read the daemon's log (journalctl or its stderr) and "
                                 "GET /deliveries?status=failed");
        report.add("canary", ok ? "PASS" : "FAIL", message, fix);
    }
    report.finish();
    return report.failed() ? Cli::Failed : Cli::Ok;
}
