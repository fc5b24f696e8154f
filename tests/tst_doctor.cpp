// `ghost-runner doctor` as an operator meets it: the real command, in text and in --json, against a
// healthy daemon and then against each broken link of the chain, one at a time. Each broken link
// must give exit 1 and a FAIL line that names the check, says why, and says how to fix it.

#include "daemonprocess.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <optional>
#include <unistd.h>

namespace {

struct Check
{
    QString name;
    QString status; // PASS FAIL WARN SKIP
    QString message;
    QString fix;
};

struct DoctorRun
{
    int exitCode = -1;
    QByteArray output;
    QList<Check> checks;
    bool jsonOk = false; // the "ok" member of --json
};

QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &k : env.keys()) {
        if (k.startsWith("GHOST_RUNNER_") || k == "NOTIFY_SOCKET" || k == "WATCHDOG_USEC")
            env.remove(k);
    }
    return env;
}

// Runs `ghost-runner doctor ARGS` while this process's event loop keeps running (the port holder
// below answers from it).
DoctorRun runDoctor(const QStringList &args, bool json)
{
    DoctorRun run;
    QProcess p;
    p.setProcessEnvironment(cleanEnvironment());
    QSignalSpy finished(&p, &QProcess::finished);
    p.start(QStringLiteral(GR_BINARY),
            QStringList{"doctor"} + args + (json ? QStringList{"--json"} : QStringList{}));
    if (!finished.wait(60000)) {
        p.kill();
        p.waitForFinished();
        return run;
    }
    run.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    const QByteArray out = p.readAllStandardOutput();
    run.output = out + p.readAllStandardError();
    if (json) {
        const QJsonObject doc = QJsonDocument::fromJson(out).object();
        run.jsonOk = doc.value("ok").toBool();
        for (const QJsonValue &v : doc.value("checks").toArray()) {
            const QJsonObject c = v.toObject();
            run.checks.append({c["check"].toString(), c["status"].toString().toUpper(),
                               c["message"].toString(), c["fix"].toString()});
        }
        return run;
    }
    static const QRegularExpression line(QStringLiteral("^(PASS|FAIL|WARN|SKIP)  (\\w+): (.*)$"));
    for (const QString &l : QString::fromUtf8(run.output).split('\n')) {
        const auto m = line.match(l);
        if (m.hasMatch())
            run.checks.append({m.captured(2), m.captured(1), m.captured(3), QString()});
        else if (l.startsWith(QLatin1String("      fix: ")) && !run.checks.isEmpty())
            run.checks.last().fix = l.mid(11);
    }
    return run;
}

QString describe(const QList<Check> &checks)
{
    QString s;
    for (const Check &c : checks)
        s += QStringLiteral("  %1 %2: %3 [fix: %4]\n").arg(c.status, c.name, c.message, c.fix);
    return s;
}

// Why `checks` has no `status` line for `name` whose message and fix contain the fragments;
// empty when it has one.
QString mismatch(const QList<Check> &checks, const QString &name, const QString &status,
                 const QString &message, const QString &fix)
{
    for (const Check &c : checks) {
        if (c.name != name || c.status != status)
            continue;
        if (!c.message.contains(message) || !c.fix.contains(fix))
            continue;
        return QString();
    }
    return QStringLiteral("no %1 %2 line with \"%3\" (fix \"%4\") in:\n%5")
        .arg(status, name, message, fix, describe(checks));
}

QStringList outline(const QList<Check> &checks, const QString &onlyStatus = QString())
{
    QStringList out;
    for (const Check &c : checks) {
        if (onlyStatus.isEmpty() || c.status == onlyStatus)
            out << c.status + ' ' + c.name;
    }
    return out;
}

std::optional<Check> findCheck(const QList<Check> &checks, const QString &name)
{
    for (const Check &c : checks) {
        if (c.name == name)
            return c;
    }
    return std::nullopt;
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

bool run(const QString &program, const QStringList &args)
{
    QProcess p;
    p.start(program, args);
    return p.waitForFinished(10000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

bool canCreateFileIn(const QString &dir)
{
    QFile f(dir + "/.probe");
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.close();
    f.remove();
    return true;
}

// Makes a directory read-only even for root (who writes through permission bits): a read-only
// bind mount over it, else the immutable attribute; chmod for anyone else. Undone on destruction.
class ReadOnlyDirectory
{
public:
    explicit ReadOnlyDirectory(QString dir) : m_dir(std::move(dir))
    {
        if (::geteuid() != 0) {
            QFile::setPermissions(m_dir, QFile::ReadOwner | QFile::ExeOwner);
            if (!canCreateFileIn(m_dir)) {
                m_how = "chmod 0500";
                return;
            }
        }
        if (run("mount", {"--bind", m_dir, m_dir})) {
            if (run("mount", {"-o", "remount,ro,bind", m_dir}) && !canCreateFileIn(m_dir)) {
                m_how = "a read-only bind mount";
                return;
            }
            unmount();
        }
        m_why = "mount --bind failed (no CAP_SYS_ADMIN?)";
        if (run("chattr", {"+i", m_dir})) {
            if (!canCreateFileIn(m_dir)) {
                m_how = "chattr +i";
                return;
            }
            run("chattr", {"-i", m_dir});
        }
        m_why += "; chattr +i failed or had no effect (file system without the attribute?)";
    }
    ~ReadOnlyDirectory()
    {
        if (m_how == "chmod 0500")
            QFile::setPermissions(m_dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        else if (m_how == "chattr +i")
            run("chattr", {"-i", m_dir});
        else if (!m_how.isEmpty())
            unmount();
    }
    bool isReadOnly() const { return !m_how.isEmpty(); }
    QString how() const { return m_how; }
    QString whyNot() const { return m_why; }

private:
    void unmount()
    {
        if (!run("umount", {m_dir}))
            run("umount", {"-l", m_dir}); // busy: detach now, free when unused
    }

    QString m_dir;
    QString m_how;
    QString m_why;
};

// Answers every request like the old Flask webhook that used to sit on 5555: 404, HTML.
class ForeignHttpServer : public QTcpServer
{
public:
    ForeignHttpServer()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s] {
                    s->readAll();
                    s->write("HTTP/1.0 404 NOT FOUND\r\nServer: Werkzeug/2.0.3 Python/3.9\r\n"
                             "Content-Type: text/html\r\nContent-Length: 9\r\n\r\nnot found");
                    s->disconnectFromHost();
                });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
};

} // namespace

// Asserts the doctor's verdict on a check, in both outputs (text and --json).
#define VERIFY_CHECK(text, json, name, status, message, fix)                                       \
    do {                                                                                           \
        for (const DoctorRun *r : {&(text), &(json)}) {                                            \
            const QString why = mismatch(r->checks, name, status, message, fix);                   \
            QVERIFY2(why.isEmpty(), qPrintable(why));                                              \
        }                                                                                          \
    } while (false)

class tst_Doctor : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.path() + "/ws"; }
    QString state() const { return m_dir.path() + "/state"; }
    QString path(const QString &name) const { return m_dir.path() + '/' + name; }

    // An all-in-one instance's file, as an operator would write it.
    QString writeConfig(quint16 port)
    {
        TestSupport::writeTree(m_dir.path(),
                               {{"aio.ini", QStringLiteral("[server]\nport = %1\n[paths]\n"
                                                           "workspace = ws\nstate_dir = state\n")
                                                .arg(port)
                                                .toUtf8()}});
        return path("aio.ini");
    }

    // A relay's file: its own secret, and the runner it forwards to.
    QString writeRelayConfig(const QString &runnerUrl, const QString &secretFile)
    {
        TestSupport::writeTree(m_dir.path(),
                               {{"relay.ini", QStringLiteral("[server]\nrole = relay\nport = 0\n"
                                                             "[paths]\nstate_dir = relay-state\n"
                                                             "[auth]\nsecret_file = %1\n"
                                                             "[relay]\nrunner_url = %2\n")
                                                  .arg(secretFile, runnerUrl)
                                                  .toUtf8()}});
        return path("relay.ini");
    }

    // Both outputs of one situation, failing the same checks. (The first run's canary may turn
    // a relay's health to degraded before the second, so warnings may differ.)
    bool runBoth(const QStringList &args, DoctorRun *text, DoctorRun *json)
    {
        *text = runDoctor(args, false);
        *json = runDoctor(args, true);
        if (outline(text->checks, "FAIL") != outline(json->checks, "FAIL")) {
            qWarning("text:\n%s\njson:\n%s", qPrintable(describe(text->checks)),
                     qPrintable(describe(json->checks)));
            return false;
        }
        return !text->checks.isEmpty();
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QDir(m_dir.path()).removeRecursively();
        QVERIFY(QDir().mkpath(ws()));
        TestSupport::writeTree(ws(), {{"a.txt", "hello\n"}});
        TestSupport::writeTree(m_dir.path(), {{"good.secret", "the-shared-secret\n"},
                                              {"other.secret", "not-the-same-secret\n"}});
    }

    void healthyInstancePassesAndConfirmsTheCanary()
    {
        const QString config = writeConfig(freePort());
        DaemonProcess d;
        QVERIFY2(d.start({"--config", config}), d.stderrText().constData());
        DoctorRun text, json;
        QVERIFY(runBoth({"--config", config}, &text, &json));
        QVERIFY2(text.exitCode == 0, text.output.constData());
        QVERIFY2(json.exitCode == 0, json.output.constData());
        QVERIFY(json.jsonOk);
        QVERIFY(text.output.contains("All checks passed."));
        QCOMPARE(outline(text.checks),
                 (QStringList{"PASS config", "PASS port", "PASS daemon", "PASS workspace",
                              "PASS journal", "PASS canary"}));
        VERIFY_CHECK(text, json, "config", "PASS", config + " is valid", "");
        VERIFY_CHECK(text, json, "port", "PASS",
                     QStringLiteral("held by ghost-runner (pid %1)").arg(d.pid()), "");

        // Each canary is a line of its own in the confirmation log: a dry run, applied.
        const QString log = state() + "/logs/delivery-confirmation.log";
        static const QRegularExpression canary("^canary ([0-9a-f-]{36}) confirmed in (.*)$");
        QStringList canaries;
        for (const DoctorRun *r : {&text, &json}) {
            const auto m = canary.match(findCheck(r->checks, "canary")->message);
            QVERIFY2(m.hasMatch(), qPrintable(findCheck(r->checks, "canary")->message));
            QCOMPARE(m.captured(2), log);
            canaries << m.captured(1);
        }
        QHash<QString, QJsonObject> lines;
        for (const QByteArray &l : TestSupport::readFile(log).split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(l).object();
            if (!o.isEmpty())
                lines.insert(o["delivery"].toString(), o);
        }
        for (const QString &id : canaries) {
            QVERIFY2(lines.contains(id), qPrintable(id));
            QCOMPARE(lines[id]["status"].toString(), QString("applied"));
            QCOMPARE(lines[id]["dry_run"].toBool(), true);
        }
        // A dry run: the workspace is as it was.
        QCOMPARE(TestSupport::readTree(ws()), (QMap<QString, QByteArray>{{"a.txt", "hello\n"}}));
        QCOMPARE(d.terminate(), 0);
    }

    void portHeldByAnotherProcess()
    {
        ForeignHttpServer holder;
        QVERIFY(holder.listen(QHostAddress::LocalHost, 0));
        const QString config = writeConfig(holder.serverPort());
        DoctorRun text, json;
        QVERIFY(runBoth({"--config", config}, &text, &json));
        QCOMPARE(text.exitCode, 1);
        QCOMPARE(json.exitCode, 1);
        QVERIFY(!json.jsonOk);
        // The holder is this test process: its name and pid are what the line must name.
        VERIFY_CHECK(text, json, "port", "FAIL",
                     QStringLiteral("127.0.0.1:%1 is held by tst_doctor (pid %2")
                         .arg(holder.serverPort())
                         .arg(QCoreApplication::applicationPid()),
                     "stop that process, or run ghost-runner on another port");
        VERIFY_CHECK(text, json, "daemon", "FAIL", "not with a Ghost Runner health report",
                     "see the port check");
        // Nothing of ours answers: no canary is sent to a stranger.
        VERIFY_CHECK(text, json, "canary", "SKIP", "no Ghost Runner answers", "");
    }

    void daemonDown()
    {
        const quint16 port = freePort();
        const QString config = writeConfig(port);
        DaemonProcess d;
        QVERIFY(d.start({"--config", config}));
        QCOMPARE(d.terminate(), 0);
        DoctorRun text, json;
        QVERIFY(runBoth({"--config", config}, &text, &json));
        QCOMPARE(text.exitCode, 1);
        QCOMPARE(json.exitCode, 1);
        VERIFY_CHECK(text, json, "port", "FAIL",
                     QStringLiteral("nothing listens on 127.0.0.1:%1").arg(port),
                     QStringLiteral("ghost-runner serve --port %1").arg(port));
        VERIFY_CHECK(text, json, "daemon", "FAIL",
                     QStringLiteral("cannot reach http://127.0.0.1:%1/health").arg(port),
                     "start the daemon (ghost-runner serve)");
        // What is on disk is still checked: the journal the daemon left.
        VERIFY_CHECK(text, json, "journal", "PASS", state() + "/journal.sqlite is readable", "");
        VERIFY_CHECK(text, json, "canary", "SKIP", "the daemon does not answer", "");
    }

    void workspaceReadOnly()
    {
        const QString config = writeConfig(freePort());
        DaemonProcess d;
        QVERIFY(d.start({"--config", config}));
        {
            // Root writes through permission bits, so chmod would prove nothing.
            const ReadOnlyDirectory readOnly(ws());
            if (!readOnly.isReadOnly())
                QSKIP(qPrintable("cannot make a directory read-only for root here: " +
                                 readOnly.whyNot()));
            qInfo("workspace made read-only with %s", qPrintable(readOnly.how()));
            DoctorRun text, json;
            QVERIFY(runBoth({"--config", config}, &text, &json));
            QCOMPARE(text.exitCode, 1);
            QCOMPARE(json.exitCode, 1);
            VERIFY_CHECK(text, json, "workspace", "FAIL",
                         QStringLiteral("workspace %1 is not writable: ").arg(ws()),
                         "make it writable by the daemon's user (check mounts");
            // The daemon's own report says the same.
            VERIFY_CHECK(text, json, "executor", "FAIL", ws() + " is not writable", "");
            VERIFY_CHECK(text, json, "daemon", "FAIL", "answers /health: failing",
                         "see the component lines");
        }
        QVERIFY(canCreateFileIn(ws()));
        QCOMPARE(httpGet(d.baseUrl() + "/health").status, 200);
    }

    void relayWhoseRunnerIsDown()
    {
        const QString secret = path("good.secret");
        DaemonProcess runner;
        QVERIFY(runner.start({"--role", "runner", "--port", "0", "--workspace", ws(), "--state-dir",
                              path("runner-state"), "--secret-file", secret}));
        const QString config = writeRelayConfig(runner.baseUrl(), secret);
        DaemonProcess relay;
        QVERIFY2(relay.start({"--config", config}), relay.stderrText().constData());
        const QStringList args{"--config", config, "--url", relay.baseUrl(), "--timeout", "2"};

        // The whole chain works first: the canary is confirmed in the relay's log.
        const DoctorRun healthy = runDoctor(args, false);
        QVERIFY2(healthy.exitCode == 0, healthy.output.constData());
        QVERIFY(mismatch(healthy.checks, "runner", "PASS", "accepts our signature", "").isEmpty());
        QVERIFY(mismatch(healthy.checks, "canary", "PASS", "relay-state/logs", "").isEmpty());

        QCOMPARE(runner.terminate(), 0);
        DoctorRun text, json;
        QVERIFY(runBoth(args, &text, &json));
        QCOMPARE(text.exitCode, 1);
        QCOMPARE(json.exitCode, 1);
        VERIFY_CHECK(text, json, "runner", "FAIL",
                     QStringLiteral("cannot reach %1/health").arg(runner.baseUrl()),
                     "start the runner (ghost-runner serve --role runner) or fix relay.runner_url");
        VERIFY_CHECK(text, json, "canary", "FAIL", "accepted, not executed",
                     "fix the failed checks above");
        VERIFY_CHECK(text, json, "workspace", "SKIP", "a relay has no workspace", "");
    }

    void relayAndRunnerWithDifferentSecrets()
    {
        DaemonProcess runner;
        QVERIFY(runner.start({"--role", "runner", "--port", "0", "--workspace", ws(), "--state-dir",
                              path("runner-state"), "--secret-file", path("good.secret")}));
        // The relay's file names the wrong secret; doctor reads it from the same file.
        const QString config = writeRelayConfig(runner.baseUrl(), path("other.secret"));
        DaemonProcess relay;
        QVERIFY(relay.start({"--config", config}));
        DoctorRun text, json;
        QVERIFY(runBoth({"--config", config, "--url", relay.baseUrl(), "--timeout", "2"}, &text,
                        &json));
        QCOMPARE(text.exitCode, 1);
        QCOMPARE(json.exitCode, 1);
        VERIFY_CHECK(text, json, "runner", "FAIL",
                     QStringLiteral("%1 refuses our signature (401").arg(runner.baseUrl()),
                     "give the relay, the runner and this command the same secret");
        VERIFY_CHECK(text, json, "canary", "FAIL", "accepted, not executed", "");
        // Nothing reached the runner's workspace.
        QCOMPARE(TestSupport::readTree(ws()), (QMap<QString, QByteArray>{{"a.txt", "hello\n"}}));
    }
};

QTEST_GUILESS_MAIN(tst_Doctor)
#include "tst_doctor.moc"
