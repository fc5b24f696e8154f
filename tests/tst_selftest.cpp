// The canary dry run of `ghost-runner doctor` and the tray: through a real in-process engine
// (passes, signs, changes nothing, finds its confirmation line) and against a scripted daemon on
// a loopback socket for every way it can fail, each with a message that says what went wrong.

#include "confirmationlog.h"
#include "engine.h"
#include "envelope.h"
#include "httpserver.h"
#include "requestauthenticator.h"
#include "selftest.h"
#include "testsupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <functional>
#include <memory>

namespace {
// Answers /webhook as the test scripts it, or never (answer == nullptr).
class ScriptedDaemon final : public HttpHandler
{
public:
    std::function<HttpResponse(const HttpRequest &)> answer;
    QList<HttpRequest> received;
    void handle(const HttpRequest &request, HttpConnection *connection) override
    {
        received.append(request);
        if (answer)
            connection->respond(answer(request));
    }
};

struct Finished
{
    bool done = false;
    bool ok = false;
    QString message;
};

HttpResponse applied(const QString &delivery)
{
    return HttpResponse::json(200, QJsonObject{{"delivery", delivery},
                                               {"status", "applied"},
                                               {"format", "mutations"},
                                               {"dry_run", true}});
}
} // namespace

class tst_SelfTest : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    ScriptedDaemon m_daemon;
    std::unique_ptr<HttpServer> m_server;

    QUrl scriptedUrl() const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server->serverPort()));
    }
    Finished run(SelfTest &test, int timeoutMs = 5000)
    {
        Finished f;
        QSignalSpy spy(&test, &SelfTest::finished);
        test.start(timeoutMs);
        if (!spy.wait(timeoutMs + 4000))
            return f;
        f.done = true;
        f.ok = spy.first().at(0).toBool();
        f.message = spy.first().at(1).toString();
        return f;
    }
    Config engineConfig(const QString &name, const QByteArray &secret = {})
    {
        Config c;
        c.port = 0;
        c.workspace = m_dir.filePath(name + "/ws");
        c.stateDir = m_dir.filePath(name + "/state");
        c.secret = secret;
        QDir().mkpath(c.workspace);
        TestSupport::writeTree(c.workspace, {{"keep.txt", "unchanged\n"}});
        return c;
    }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules("ghostrunner.*.info=false");
        qRegisterMetaType<Outcome>();
        QVERIFY(m_dir.isValid());
    }
    void init()
    {
        m_daemon.answer = nullptr;
        m_daemon.received.clear();
        m_server = std::make_unique<HttpServer>(&m_daemon);
        QVERIFY(m_server->start(QHostAddress::LocalHost, 0).ok());
    }
    void cleanup() { m_server.reset(); }

    void canaryIsAValidDryRun()
    {
        const QByteArray body = SelfTest::canaryEnvelope("canary-1");
        const Result<Envelope> e = Envelope::parse(body);
        QVERIFY2(e.ok(), qPrintable(e.error().message));
        QCOMPARE(e->id, QString("canary-1"));
        QCOMPARE(e->format, QString("mutations"));
        QVERIFY(e->dryRun);
        // Two canaries differ only in their id, so they never conflict with each other.
        QVERIFY(SelfTest::canaryEnvelope("canary-2") != body);
    }

    void passesThroughARealEngineAndChangesNothing()
    {
        Engine engine(engineConfig("plain"));
        QVERIFY(engine.start().ok());
        const QMap<QString, QByteArray> before = TestSupport::snapshot(engine.config().workspace);
        const QString logPath = engine.confirmationLog()->path();
        SelfTest test(QUrl("http://" + engine.listeningAddress()), {}, logPath);
        const Finished f = run(test);
        QVERIFY(f.done);
        QVERIFY2(f.ok, qPrintable(f.message));
        QVERIFY(!test.deliveryId().isEmpty());
        QCOMPARE(f.message, QString("canary %1 confirmed in %2").arg(test.deliveryId(), logPath));
        QCOMPARE(TestSupport::snapshot(engine.config().workspace), before);
        const std::optional<QJsonObject> line = engine.confirmationLog()->find(test.deliveryId());
        QVERIFY(line.has_value());
        QCOMPARE(line->value("status").toString(), QString("applied"));
        QCOMPARE(line->value("dry_run").toBool(), true);
        const Delivery d = engine.journal()->find(test.deliveryId(), false).value();
        QVERIFY(d.patchId.startsWith("ghost-runner-canary-"));
    }

    void signsWithTheSecret()
    {
        Engine engine(engineConfig("signed", "s3cret"));
        QVERIFY(engine.start().ok());
        SelfTest good(QUrl("http://" + engine.listeningAddress()), "s3cret",
                      engine.confirmationLog()->path());
        const Finished ok = run(good);
        QVERIFY2(ok.ok, qPrintable(ok.message));
        QCOMPARE(engine.journal()->find(good.deliveryId(), false)->source,
                 QString("standard-webhooks"));

        SelfTest wrong(QUrl("http://" + engine.listeningAddress()), "other",
                       engine.confirmationLog()->path());
        const Finished bad = run(wrong);
        QVERIFY(bad.done);
        QVERIFY(!bad.ok);
        QCOMPARE(bad.message, QString("the daemon refused our signature (401 bad_signature); use "
                                      "the same secret as the daemon"));
        QVERIFY(wrong.deliveryId().isEmpty());
    }

    void withoutALogTheAnswerIsTrusted()
    {
        Engine engine(engineConfig("remote"));
        QVERIFY(engine.start().ok());
        SelfTest test(QUrl("http://" + engine.listeningAddress()), {}, QString());
        const Finished f = run(test);
        QVERIFY2(f.ok, qPrintable(f.message));
        QCOMPARE(f.message, QString("canary %1 confirmed by the daemon").arg(test.deliveryId()));
    }

    void requestShape()
    {
        m_daemon.answer = [](const HttpRequest &) { return applied("d-1"); };
        SelfTest test(scriptedUrl(), "k", QString());
        QVERIFY(run(test, 3000).ok);
        QCOMPARE(m_daemon.received.size(), 1);
        const HttpRequest &r = m_daemon.received.first();
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.path, QString("/webhook"));
        QCOMPARE(r.query.queryItemValue("wait"), QString("3"));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        QVERIFY(Envelope::parse(r.body).ok());
        QVERIFY(RequestAuthenticator("k")
                    .authenticate(r.headers, r.body, QDateTime::currentDateTimeUtc())
                    .ok());
        QCOMPARE(r.header("webhook-id"),
                 Envelope::parse(r.body)->id.toUtf8()); // replays of it are deduplicated
    }

    void baseUrlWithAPathPrefix()
    {
        // Behind a reverse proxy: http://host/ghost → /ghost/webhook.
        m_daemon.answer = [](const HttpRequest &) { return applied("d-1"); };
        QUrl base = scriptedUrl();
        base.setPath("/ghost");
        SelfTest test(base, {}, QString());
        QVERIFY(run(test).ok);
        QCOMPARE(m_daemon.received.first().path, QString("/ghost/webhook"));
    }

    void failures_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message");
        QTest::newRow("failed") << 422
                                << QByteArray(R"({"delivery":"d-1","status":"failed","error":)"
                                              R"({"code":"workspace_not_writable",)"
                                              R"("message":"workspace /w is not writable"}})")
                                << "the canary did not go through: HTTP 422, status failed: "
                                   "workspace /w is not writable";
        QTest::newRow("still queued after the wait")
            << 202 << QByteArray(R"({"delivery":"d-1","status":"queued"})")
            << "the daemon journaled canary d-1, but it is still queued after 5 s: accepted, not "
               "executed";
        QTest::newRow("still forwarding, with the relay's last error")
            << 202
            << QByteArray(R"({"delivery":"d-1","status":"forwarding","timeline":[)"
                          R"({"state":"attempt_failed","detail":{"error":"runner refused"}}]})")
            << "the daemon journaled canary d-1, but it is still forwarding after 5 s: accepted, "
               "not executed (runner refused)";
        QTest::newRow("not ready") << 503
                                   << QByteArray(R"({"error":{"code":"journal_failed",)"
                                                 R"("message":"the journal cannot be written"}})")
                                   << "the canary did not go through: HTTP 503, status ?: the "
                                      "journal cannot be written";
        QTest::newRow("200 that is not applied")
            << 200 << QByteArray(R"({"delivery":"d-1","status":"rejected"})")
            << "the canary did not go through: HTTP 200, status rejected";
        QTest::newRow("not JSON") << 200 << QByteArray("<html>hello</html>")
                                  << "the canary did not go through: HTTP 200, status ?";
        QTest::newRow("401") << 401
                             << QByteArray(R"({"error":{"code":"missing_signature",)"
                                           R"("message":"sign it"}})")
                             << "the daemon refused our signature (401 missing_signature); use the "
                                "same secret as the daemon";
    }
    void failures()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        m_daemon.answer = [&](const HttpRequest &) {
            return HttpResponse::text(status, body, "application/json");
        };
        SelfTest test(scriptedUrl(), {}, QString());
        const Finished f = run(test);
        QVERIFY(f.done);
        QVERIFY(!f.ok);
        QCOMPARE(f.message, message);
    }

    void logMustHoldTheCanarysLine_data()
    {
        QTest::addColumn<QByteArray>("log"); // null: no log file at all
        QTest::addColumn<bool>("ok");
        const QByteArray ours = R"({"ts":"x","delivery":"d-7","id":"c","status":"applied"})"
                                "\n";
        QTest::newRow("line present") << ours << true;
        QTest::newRow("line after a megabyte of others")
            << QByteArray(2 << 20, 'x') + "\n" + ours << true;
        QTest::newRow("only other deliveries")
            << QByteArray(R"({"ts":"x","delivery":"d-70","id":"c","status":"applied"})"
                          "\n")
            << false;
        QTest::newRow("empty log") << QByteArray("") << false;
        QTest::newRow("no log file") << QByteArray() << false;
    }
    void logMustHoldTheCanarysLine()
    {
        QFETCH(QByteArray, log);
        QFETCH(bool, ok);
        const QString logPath = m_dir.filePath("scripted.log");
        QFile::remove(logPath);
        if (!log.isNull())
            QVERIFY(TestSupport::writeFile(logPath, log));
        m_daemon.answer = [](const HttpRequest &) { return applied("d-7"); };
        SelfTest test(scriptedUrl(), {}, logPath);
        const Finished f = run(test);
        QVERIFY(f.done);
        QCOMPARE(f.ok, ok);
        QCOMPARE(test.deliveryId(), QString("d-7"));
        if (ok)
            QCOMPARE(f.message, QString("canary d-7 confirmed in %1").arg(logPath));
        else
            QCOMPARE(
                f.message,
                QString("the daemon answered, but %1 has no line for canary d-7").arg(logPath));
    }

    void unreachableDaemon()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close(); // nothing listens there now
        SelfTest test(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)), {}, QString());
        const Finished f = run(test);
        QVERIFY(f.done);
        QVERIFY(!f.ok);
        QVERIFY2(
            f.message.startsWith(QStringLiteral("cannot reach http://127.0.0.1:%1: ").arg(port)),
            qPrintable(f.message));
        QVERIFY(f.message.contains("refused", Qt::CaseInsensitive));
    }

    void daemonThatNeverAnswers()
    {
        // It accepts the request and then says nothing: that is no answer in time, not an
        // unreachable daemon.
        m_daemon.answer = nullptr;
        SelfTest test(scriptedUrl(), {}, QString());
        QElapsedTimer t;
        t.start();
        const Finished f = run(test, 300);
        QVERIFY(f.done);
        QVERIFY(!f.ok);
        QCOMPARE(m_daemon.received.size(), 1);
        QCOMPARE(f.message,
                 QString("no answer from %1 within 1.3 s").arg(scriptedUrl().toString()));
        QVERIFY(t.elapsed() < 2500);
    }
};

QTEST_GUILESS_MAIN(tst_SelfTest)
#include "tst_selftest.moc"
