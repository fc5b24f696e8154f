// The all-in-one pipeline as a user meets it: the real `ghost-runner serve` process on port 0,
// real HTTP, a real workspace and state directory, kill -9 and restarts.

#include "daemonprocess.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <unistd.h>

namespace {
QList<QJsonObject> logLines(const QString &stateDir)
{
    QList<QJsonObject> out;
    const QByteArray text = TestSupport::readFile(stateDir + "/logs/delivery-confirmation.log");
    for (const QByteArray &line : text.split('\n')) {
        if (!line.isEmpty())
            out.append(QJsonDocument::fromJson(line).object());
    }
    return out;
}

QByteArray patternPatch(const QString &id, const QString &file, const QString &pattern,
                        const QString &replacement)
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"target_file", file},
                                     {"patch", QJsonObject{{"pattern", pattern},
                                                           {"replacement", replacement}}}})
        .toJson(QJsonDocument::Compact);
}

// Appends one line: applied twice, it would leave two.
QByteArray appendPatch(const QString &id, const QString &line)
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"mutations", QJsonArray{QJsonObject{{"path", "journal.txt"},
                                                                          {"insertAt", 1},
                                                                          {"contents", line}}}}})
        .toJson(QJsonDocument::Compact);
}
} // namespace

class tst_Daemon : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.path() + "/ws"; }
    QString state() const { return m_dir.path() + "/state"; }
    QStringList baseArgs() const
    {
        return {"--port", "0", "--workspace", ws(), "--state-dir", state()};
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QDir(m_dir.path()).removeRecursively();
        QDir().mkpath(ws());
        TestSupport::writeTree(ws(), {{"a.txt", "hello world\n"},
                                      {"src/main.c", "int main() { return 0; }\n"},
                                      {"journal.txt", "end\n"}});
    }

    void listeningLineComesAfterBindAndJournal()
    {
        DaemonProcess d;
        QVERIFY2(d.start(baseArgs()), d.stderrText().constData());
        QVERIFY(d.stdoutText().contains("(role all-in-one, workspace " + ws().toUtf8() + ")"));
        QVERIFY(QFile::exists(state() + "/journal.sqlite"));
        const HttpReply h = httpGet(d.baseUrl() + "/health");
        QCOMPARE(h.status, 200);
        QCOMPARE(h.json["status"].toString(), QString("ok"));
        QCOMPARE(h.json["components"]["server"]["listening"].toString(),
                 "127.0.0.1:" + QString::number(d.port()));
        QCOMPARE(d.terminate(), 0);
    }

    void appliesPatternPatch()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        const HttpReply r =
            httpPostJson(d.baseUrl() + "/webhook", patternPatch("p1", "a.txt", "world", "there"));
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json["status"].toString(), QString("queued"));
        QCOMPARE(r.json["id"].toString(), QString("p1"));
        const QString delivery = r.json["delivery"].toString();
        QCOMPARE(r.json["links"]["self"].toString(), "/deliveries/" + delivery);
        // The readable copy follows the answer (the journal holds the durable one).
        QTRY_VERIFY(QFile::exists(state() + "/patches/" + delivery + ".json"));
        QTRY_COMPARE(httpGet(d.baseUrl() + "/deliveries/" + delivery).json["status"].toString(),
                     QString("applied"));
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("hello there\n"));
        const QList<QJsonObject> lines = logLines(state());
        QCOMPARE(lines.size(), 1);
        QCOMPARE(lines[0]["status"].toString(), QString("applied"));
        QCOMPARE(lines[0]["delivery"].toString(), delivery);
        QCOMPARE(lines[0]["files"].toArray()[0].toObject()["path"].toString(), QString("a.txt"));
        const HttpReply rec = httpGet(d.baseUrl() + "/deliveries/" + delivery);
        QStringList states;
        for (const QJsonValue &e : rec.json["timeline"].toArray())
            states << e["state"].toString();
        QCOMPARE(states, (QStringList{"received", "journaled", "applying", "applied"}));
    }

    void appliesMultiFileMutationsWithWait()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        const QByteArray body =
            QJsonDocument(
                QJsonObject{
                    {"id", "m1"},
                    {"mutations",
                     QJsonArray{QJsonObject{{"path", "new/dir/b.txt"}, {"contents", "fresh\n"}},
                                QJsonObject{{"path", "src/main.c"},
                                            {"insertBefore", "int main"},
                                            {"contents", "#include <stdio.h>"}},
                                QJsonObject{{"path", "a.txt"}, {"op", "delete"}}}}})
                .toJson();
        const HttpReply r = httpPostJson(d.baseUrl() + "/webhook?wait=10", body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json["status"].toString(), QString("applied"));
        QCOMPARE(r.json["files"].toArray().size(), 3);
        QCOMPARE(TestSupport::readTree(ws()),
                 (QMap<QString, QByteArray>{
                     {"journal.txt", "end\n"},
                     {"new/dir/b.txt", "fresh\n"},
                     {"src/main.c", "#include <stdio.h>\nint main() { return 0; }\n"}}));
        QCOMPARE(logLines(state()).size(), 1);
    }

    void failingPatchChangesNothing()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        const auto before = TestSupport::readTree(ws());
        // The second mutation fails, so the first must not be written either.
        const QByteArray body =
            QJsonDocument(
                QJsonObject{{"id", "f1"},
                            {"mutations",
                             QJsonArray{QJsonObject{{"path", "a.txt"}, {"contents", "changed\n"}},
                                        QJsonObject{{"path", "src/main.c"},
                                                    {"insertAfter", "no such line"},
                                                    {"contents", "x"}}}}})
                .toJson();
        const HttpReply r = httpPostJson(d.baseUrl() + "/webhook?wait=10", body);
        QCOMPARE(r.status, 422);
        QCOMPARE(r.json["status"].toString(), QString("failed"));
        QCOMPARE(r.json["error"]["code"].toString(), QString("no_match"));
        QCOMPARE(TestSupport::readTree(ws()), before);
        const QList<QJsonObject> lines = logLines(state());
        QCOMPARE(lines.size(), 1);
        QCOMPARE(lines[0]["status"].toString(), QString("failed"));
        QCOMPARE(lines[0]["error"].toObject()["code"].toString(), QString("no_match"));

        const HttpReply p = httpPostJson(d.baseUrl() + "/webhook?wait=10",
                                         patternPatch("f2", "a.txt", "absent", "x"));
        QCOMPARE(p.status, 422);
        QCOMPARE(p.json["error"]["code"].toString(), QString("no_match"));
        QCOMPARE(TestSupport::readTree(ws()), before);
        QCOMPARE(logLines(state()).size(), 2);
        QCOMPARE(jsonAt(httpGet(d.baseUrl() + "/health").json, "components/executor/last_result")
                     .toString(),
                 QString("failed"));
    }

    void duplicatesAndConflicts()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        const QByteArray body = appendPatch("dup-1", "once");
        const HttpReply first = httpPostJson(d.baseUrl() + "/webhook?wait=10", body);
        QCOMPARE(first.status, 200);
        // Same id, same JSON (other whitespace): the existing delivery, not applied again.
        QByteArray spaced = QJsonDocument::fromJson(body).toJson(QJsonDocument::Indented);
        const HttpReply again = httpPostJson(d.baseUrl() + "/webhook", spaced);
        QCOMPARE(again.status, 200);
        QCOMPARE(again.json["duplicate"].toBool(), true);
        QCOMPARE(again.json["delivery"].toString(), first.json["delivery"].toString());
        QCOMPARE(again.json["status"].toString(), QString("applied"));
        // Same id, other body: 409.
        const HttpReply conflict =
            httpPostJson(d.baseUrl() + "/webhook", appendPatch("dup-1", "twice"));
        QCOMPARE(conflict.status, 409);
        QCOMPARE(conflict.json["error"]["code"].toString(), QString("conflict"));
        QVERIFY(!conflict.json["error"]["message"].toString().isEmpty());
        QCOMPARE(TestSupport::readFile(ws() + "/journal.txt"), QByteArray("once\nend\n"));
        QCOMPARE(logLines(state()).size(), 1);
    }

    void badRequests_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::newRow("bad json") << QByteArray("{\"id\": ") << QByteArray("application/json")
                                  << 400 << "bad_json";
        QTest::newRow("missing id")
            << QByteArray(R"({"target_file":"a.txt","patch":{"pattern":"a","replacement":"b"}})")
            << QByteArray("application/json") << 400 << "missing_id";
        QTest::newRow("not an object")
            << QByteArray("[1,2]") << QByteArray("application/json") << 400 << "bad_envelope";
        QTest::newRow("unknown format")
            << QByteArray(R"({"id":"u","format":"zip"})") << QByteArray("application/json") << 400
            << "unknown_format";
        QTest::newRow("undetectable") << QByteArray(R"({"id":"u2"})")
                                      << QByteArray("application/json") << 400 << "unknown_format";
        QTest::newRow("not json type")
            << QByteArray("id=1") << QByteArray("text/plain") << 415 << "unsupported_media_type";
        QTest::newRow("empty") << QByteArray() << QByteArray("application/json") << 400
                               << "bad_json";
    }
    void badRequests()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, status);
        QFETCH(QString, code);
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        const HttpReply r =
            httpRequest("POST", d.baseUrl() + "/webhook", body, {{"Content-Type", contentType}});
        QCOMPARE(r.status, status);
        QCOMPARE(r.json["error"]["code"].toString(), code);
        QVERIFY(!r.json["error"]["message"].toString().isEmpty());
        QCOMPARE(httpGet(d.baseUrl() + "/deliveries").json["deliveries"].toArray().size(), 0);
        QCOMPARE(logLines(state()).size(), 0);
    }

    void pathEscapingWorkspaceIsRejected()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        const QString outside = m_dir.path() + "/outside.txt";
        TestSupport::writeTree(m_dir.path(), {{"outside.txt", "secret world\n"}});
        const auto before = TestSupport::readTree(ws());
        for (const QString &target : {QString("../outside.txt"), outside}) {
            const HttpReply r = httpPostJson(
                d.baseUrl() + "/webhook?wait=10",
                patternPatch("esc-" + QString::number(qHash(target)), target, "world", "pwned"));
            QCOMPARE(r.status, 422);
            QCOMPARE(r.json["status"].toString(), QString("rejected"));
            QCOMPARE(r.json["error"]["code"].toString(), QString("path_outside_workspace"));
        }
        QCOMPARE(TestSupport::readFile(outside), QByteArray("secret world\n"));
        QCOMPARE(TestSupport::readTree(ws()), before);
        QCOMPARE(logLines(state()).size(), 2);
        QCOMPARE(logLines(state())[0]["status"].toString(), QString("rejected"));
    }

    void busyPortExitsWith3()
    {
        QTcpServer holder;
        QVERIFY(holder.listen(QHostAddress::LocalHost, 0));
        QByteArray out, err;
        const int code =
            DaemonProcess::runToEnd({"serve", "--port", QString::number(holder.serverPort()),
                                     "--workspace", ws(), "--state-dir", state()},
                                    &out, &err);
        QCOMPARE(code, 3);
        QVERIFY(!out.contains("listening on"));
        QCOMPARE(err.trimmed(),
                 QByteArray("ghost-runner: cannot listen on 127.0.0.1:" +
                            QByteArray::number(holder.serverPort()) + ": address in use"));
    }

    // The harness itself: an exit that an event loop (or start()) saw first still counts as an
    // exit. QProcess::waitForFinished() alone answers false then, which made the crash tests
    // flaky whenever the crash came before the 202.
    void waitForExitSeesAnExitAlreadyNoticed()
    {
        QTcpServer holder;
        QVERIFY(holder.listen(QHostAddress::LocalHost, 0));
        DaemonProcess d;
        QVERIFY(!d.start(baseArgs() + QStringList{"--port", QString::number(holder.serverPort())}));
        QCOMPARE(d.process().state(), QProcess::NotRunning);
        QVERIFY(d.waitForExit(1000));
        QCOMPARE(d.exitCode(), 3);
    }

    void cannotStart_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expect");
        QTest::newRow("missing workspace") << "workspace"
                                           << "does not exist";
        QTest::newRow("state dir not writable") << "state"
                                                << "state directory";
    }
    void cannotStart()
    {
        QFETCH(QString, what);
        QFETCH(QString, expect);
        QStringList args = baseArgs();
        // A path below a regular file can be created by nobody, root included.
        TestSupport::writeTree(m_dir.path(), {{"plainfile", "x"}});
        const QString blocked = m_dir.path() + "/plainfile/sub";
        args[what == "workspace" ? 3 : 5] = blocked;
        QByteArray out, err;
        QCOMPARE(DaemonProcess::runToEnd(QStringList{"serve"} + args, &out, &err), 3);
        QVERIFY(!out.contains("listening on"));
        QVERIFY2(err.startsWith("ghost-runner: ") && err.contains(expect.toUtf8()),
                 err.constData());
        QCOMPARE(err.count('\n'), 1);
    }

    void killedBetweenAcknowledgementAndApply()
    {
        // Paused applying makes the window between 202 and apply deterministic.
        TestSupport::writeTree(m_dir.path(), {{"paused.ini", "[executor]\nstart_paused = true\n"}});
        DaemonProcess d;
        QVERIFY(d.start(baseArgs() + QStringList{"--config", m_dir.path() + "/paused.ini"}));
        const HttpReply r =
            httpPostJson(d.baseUrl() + "/webhook", appendPatch("k1", "applied once"));
        QCOMPARE(r.status, 202);
        const QString delivery = r.json["delivery"].toString();
        QCOMPARE(
            jsonAt(httpGet(d.baseUrl() + "/health").json, "components/executor/paused").toBool(),
            true);
        d.kill9();
        QCOMPARE(TestSupport::readFile(ws() + "/journal.txt"), QByteArray("end\n"));

        DaemonProcess again;
        QVERIFY(again.start(baseArgs()));
        QTRY_COMPARE(httpGet(again.baseUrl() + "/deliveries/" + delivery).json["status"].toString(),
                     QString("applied"));
        QCOMPARE(TestSupport::readFile(ws() + "/journal.txt"), QByteArray("applied once\nend\n"));
        QCOMPARE(logLines(state()).size(), 1);
        // A third start finds nothing left to do.
        QCOMPARE(again.terminate(), 0);
        DaemonProcess third;
        QVERIFY(third.start(baseArgs()));
        QCOMPARE(
            jsonAt(httpGet(third.baseUrl() + "/health").json, "components/journal/pending").toInt(),
            0);
        QCOMPARE(TestSupport::readFile(ws() + "/journal.txt"), QByteArray("applied once\nend\n"));
        QCOMPARE(logLines(state()).size(), 1);
    }

    void crashAtEachStepFinishesExactlyOnce_data()
    {
        QTest::addColumn<QString>("point");
        // Files renamed into place but the transaction not confirmed: rolled back and re-run.
        QTest::newRow("mid commit") << "workspace-mid-commit";
        QTest::newRow("after commit") << "after-commit";
        // Logged but not journaled: the log line is the truth; nothing runs again.
        QTest::newRow("after log append") << "after-log-append";
    }
    void crashAtEachStepFinishesExactlyOnce()
    {
        QFETCH(QString, point);
        DaemonProcess d;
        d.environment().insert("GHOST_RUNNER_CRASH_AT", point);
        QVERIFY(d.start(baseArgs()));
        const QByteArray body =
            QJsonDocument(
                QJsonObject{
                    {"id", "c1"},
                    {"mutations",
                     QJsonArray{
                         QJsonObject{{"path", "journal.txt"}, {"insertAt", 1}, {"contents", "x"}},
                         QJsonObject{{"path", "a.txt"}, {"contents", "rewritten\n"}}}}})
                .toJson();
        // The executor starts while the intake flush runs, so a crash while applying can come
        // before the 202 (no answer at all): the sender then sends again, as senders do.
        const HttpReply r = httpPostJson(d.baseUrl() + "/webhook", body);
        QVERIFY2(r.status == 202 || r.status == 0, qPrintable(QString::number(r.status)));
        QVERIFY(d.waitForExit(15000));
        QCOMPARE(d.exitCode(), 86); // died at the injected point
        QVERIFY(d.stderrText().contains("crash injected at " + point.toUtf8()));

        DaemonProcess again;
        QVERIFY(again.start(baseArgs()));
        QString delivery = r.json["delivery"].toString();
        if (r.status == 0) {
            const HttpReply retry = httpPostJson(again.baseUrl() + "/webhook", body);
            QVERIFY2(retry.status == 200 || retry.status == 202,
                     qPrintable(QString::number(retry.status)));
            delivery = retry.json["delivery"].toString();
        }
        QTRY_COMPARE(httpGet(again.baseUrl() + "/deliveries/" + delivery).json["status"].toString(),
                     QString("applied"));
        QCOMPARE(TestSupport::readFile(ws() + "/journal.txt"), QByteArray("x\nend\n"));
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("rewritten\n"));
        QCOMPARE(logLines(state()).size(), 1);
        // No temporary or backup files are left behind.
        for (const QString &f : TestSupport::readTree(ws()).keys())
            QVERIFY2(!f.contains(".gr-"), qPrintable(f));
        QCOMPARE(TestSupport::openTxnRecords(state() + "/txn"), QStringList());
    }

    void healthFailsWhenWorkspaceUnwritable()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        QCOMPARE(httpGet(d.baseUrl() + "/health").status, 200);
        // Root ignores permission bits, so take the directory away instead.
        const bool root = ::geteuid() == 0;
        if (root) {
            QVERIFY(QDir().rename(ws(), ws() + ".moved"));
            TestSupport::writeTree(m_dir.path(), {{"ws", "not a directory"}});
        } else {
            QVERIFY(QFile::setPermissions(ws(), QFile::ReadOwner | QFile::ExeOwner));
        }
        const HttpReply h = httpGet(d.baseUrl() + "/health");
        QCOMPARE(h.status, 503);
        QCOMPARE(h.json["status"].toString(), QString("failing"));
        QCOMPARE(h.json["components"]["executor"]["status"].toString(), QString("failing"));
        QCOMPARE(h.json["components"]["executor"]["writable"].toBool(), false);
        QVERIFY(!h.json["components"]["executor"]["message"].toString().isEmpty());
        QCOMPARE(h.json["components"]["server"]["status"].toString(), QString("ok"));
        if (root) {
            QVERIFY(QFile::remove(ws()));
            QVERIFY(QDir().rename(ws() + ".moved", ws()));
        } else {
            QVERIFY(QFile::setPermissions(ws(),
                                          QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        }
        QCOMPARE(httpGet(d.baseUrl() + "/health").status, 200);
    }

    void unknownDeliveryAndEndpoint()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        const HttpReply r = httpGet(d.baseUrl() + "/deliveries/nope");
        QCOMPARE(r.status, 404);
        QCOMPARE(r.json["error"]["code"].toString(), QString("not_found"));
        QCOMPARE(httpGet(d.baseUrl() + "/nothing").status, 404);
        const HttpReply m = httpRequest("DELETE", d.baseUrl() + "/webhook");
        QCOMPARE(m.status, 405);
        QCOMPARE(m.header("Allow"), QByteArray("POST"));
    }

    void sigtermExitsCleanly()
    {
        DaemonProcess d;
        QVERIFY(d.start(baseArgs()));
        QCOMPARE(d.terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_Daemon)
#include "tst_daemon.moc"
