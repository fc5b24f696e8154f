// The relay's hop, in process: an Engine in the relay role forwarding to a scripted runner on a
// real loopback socket that answers 500, 503 + Retry-After, 401, 302, 409 or success on cue.

#include "daemonprocess.h"
#include "engine.h"
#include "forwarder.h"
#include "httpserver.h"
#include "requestauthenticator.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QQueue>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

namespace {
class ScriptedRunner final : public HttpHandler
{
public:
    QQueue<HttpResponse> script;
    QList<HttpRequest> received;
    void handle(const HttpRequest &request, HttpConnection *connection) override
    {
        received.append(request);
        if (!script.isEmpty()) {
            connection->respond(script.dequeue());
            return;
        }
        const QString id = QString::fromUtf8(request.header("X-Ghost-Runner-Delivery"));
        connection->respond(HttpResponse::json(
            200, QJsonObject{{"delivery", id},
                             {"id", "p"},
                             {"status", "applied"},
                             {"format", "mutations"},
                             {"files", QJsonArray{QJsonObject{{"path", "a.txt"},
                                                              {"action", "modified"}}}}}));
    }
};

QByteArray envelope(const QString &id)
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"mutations", QJsonArray{QJsonObject{{"path", "a.txt"},
                                                                          {"contents", "x"}}}}})
        .toJson(QJsonDocument::Compact);
}
} // namespace

class tst_Forwarder : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    ScriptedRunner m_runner;
    HttpServer *m_server = nullptr;
    std::unique_ptr<Engine> m_engine;

    Config relayConfig(int maxAttempts = 6, const QByteArray &secret = {})
    {
        Config c;
        c.role = "relay";
        c.port = 0;
        c.runnerUrl = QStringLiteral("http://127.0.0.1:%1").arg(m_server->serverPort());
        c.stateDir =
            m_dir.path() + "/state-" + QString::number(QDateTime::currentMSecsSinceEpoch());
        c.backoffInitialMs = 20;
        c.backoffMaxMs = 60;
        c.maxAttempts = maxAttempts;
        c.connectTimeoutS = 2;
        c.forwardTimeoutS = 5;
        c.secret = secret;
        return c;
    }
    Delivery send(const QString &id)
    {
        IntakeRequest in;
        in.body = envelope(id);
        return m_engine->intake(in)->delivery;
    }
    Outcome waitFor(const QString &deliveryId)
    {
        QSignalSpy spy(m_engine.get(), &Engine::deliveryFinished);
        for (int i = 0; i < 200; ++i) {
            for (const auto &args : spy) {
                if (args[0].toString() == deliveryId)
                    return args[2].value<Outcome>();
            }
            if (!spy.wait(200) && m_engine->journal()->find(deliveryId, false)->isFinal())
                return m_engine->journal()->find(deliveryId, false)->outcome;
        }
        return Outcome();
    }
    QStringList timeline(const QString &id)
    {
        QStringList states;
        const Delivery d = m_engine->journal()->find(id).value();
        for (const DeliveryEvent &e : d.events)
            states << e.state;
        return states;
    }

private slots:
    void initTestCase()
    {
        qRegisterMetaType<Outcome>();
        m_server = new HttpServer(&m_runner, this);
        QVERIFY(m_server->start(QHostAddress::LocalHost, 0).ok());
    }
    void init()
    {
        m_runner.script.clear();
        m_runner.received.clear();
    }
    void cleanup() { m_engine.reset(); }

    void retriesThroughServerErrorsHonouringRetryAfter()
    {
        m_runner.script.enqueue(HttpResponse::error(500, "boom", "internal error"));
        m_runner.script.enqueue(
            HttpResponse::error(503, "busy", "try later").withHeader("Retry-After", "1"));
        m_engine = std::make_unique<Engine>(relayConfig());
        QVERIFY(m_engine->start().ok());
        const Delivery d = send("r1");
        const Outcome o = waitFor(d.id);
        QCOMPARE(o.status, QString("applied"));
        QCOMPARE(m_runner.received.size(), 3);
        const Delivery rec = m_engine->journal()->find(d.id).value();
        QCOMPARE(rec.status, QString("applied"));
        QStringList states = timeline(d.id);
        QCOMPARE(states, (QStringList{"received", "journaled", "forwarding", "attempt_failed",
                                      "attempt_failed", "runner_confirmed", "applied"}));
        QCOMPARE(rec.events[3].detail["http_status"].toInt(), 500);
        QCOMPARE(rec.events[4].detail["http_status"].toInt(), 503);
        // Retry-After: 1 was honoured between the second and third attempt.
        QVERIFY(rec.events[5].atMs - rec.events[4].atMs >= 900);
        QVERIFY(TestSupport::readFile(m_engine->confirmationLog()->path())
                    .contains("\"status\":\"applied\""));
    }

    void signsEveryForwardWithTheDeliveryId()
    {
        m_engine = std::make_unique<Engine>(relayConfig(6, "shared-secret"));
        QVERIFY(m_engine->start().ok());
        const Delivery d = send("signed");
        QCOMPARE(waitFor(d.id).status, QString("applied"));
        const HttpRequest &r = m_runner.received.last();
        QCOMPARE(r.path, QString("/patch"));
        QCOMPARE(QString::fromUtf8(r.header("webhook-id")), d.id);
        QCOMPARE(QString::fromUtf8(r.header("X-Ghost-Runner-Delivery")), d.id);
        const RequestAuthenticator runnerSide("shared-secret");
        QVERIFY(runnerSide.authenticate(r.headers, r.body, QDateTime::currentDateTimeUtc()).ok());
        QVERIFY(!RequestAuthenticator("other")
                     .authenticate(r.headers, r.body, QDateTime::currentDateTimeUtc())
                     .ok());
    }

    void unauthorizedShowsInHealthThenGoesDead()
    {
        for (int i = 0; i < 3; ++i)
            m_runner.script.enqueue(
                HttpResponse::error(401, "bad_signature", "signature does not match"));
        m_engine = std::make_unique<Engine>(relayConfig(3));
        QVERIFY(m_engine->start().ok());
        const Delivery d = send("dead-1");
        const Outcome o = waitFor(d.id);
        QCOMPARE(o.status, QString("dead"));
        QCOMPARE(o.error.code, QString("runner_unreachable"));
        QVERIFY(o.error.message.contains("3 attempts"));
        QVERIFY(o.error.message.contains("signature"));
        const QJsonObject h = m_engine->health().toJson("v", "relay", 0);
        QCOMPARE(h["components"]["forwarder"]["status"].toString(), QString("degraded"));
        QVERIFY(h["components"]["forwarder"]["last_error"].toString().contains(
            "refused our signature"));
        QCOMPARE(h["components"]["forwarder"]["last_result"].toString(), QString("dead"));
        const QByteArray log = TestSupport::readFile(m_engine->confirmationLog()->path());
        QCOMPARE(log.count("\"status\":\"dead\""), 1);
        QVERIFY(
            m_engine->renderMetrics().contains("ghost_runner_deliveries_total{status=\"dead\"} 1"));
        QVERIFY(m_engine->renderMetrics().contains(
            "ghost_runner_forward_attempts_total{result=\"unauthorized\"} 3"));
        // The next delivery goes through once the runner accepts again.
        const Delivery next = send("after-dead");
        QCOMPARE(waitFor(next.id).status, QString("applied"));
        QCOMPARE(m_engine->health().overall(), Health::Ok);
    }

    void redirectsAreNotFollowed()
    {
        m_runner.script.enqueue(HttpResponse::text(302, "", "text/plain")
                                    .withHeader("Location", "http://evil.invalid/"));
        m_engine = std::make_unique<Engine>(relayConfig());
        QVERIFY(m_engine->start().ok());
        const Delivery d = send("redir");
        QCOMPARE(waitFor(d.id).status, QString("applied"));
        const Delivery rec = m_engine->journal()->find(d.id).value();
        QVERIFY(rec.events[3].detail["error"].toString().contains("redirects are not followed"));
        QCOMPARE(m_runner.received.size(), 2);
    }

    void refusalIsFinalNotRetried()
    {
        m_runner.script.enqueue(HttpResponse::error(409, "conflict", "patch id reused"));
        m_engine = std::make_unique<Engine>(relayConfig());
        QVERIFY(m_engine->start().ok());
        const Delivery d = send("refused");
        const Outcome o = waitFor(d.id);
        QCOMPARE(o.status, QString("failed"));
        QCOMPARE(o.error.code, QString("runner_refused"));
        QCOMPARE(m_runner.received.size(), 1);
    }

    void unreachableRunnerDegradesHealth()
    {
        Config c = relayConfig(1000);
        c.runnerUrl = "http://127.0.0.1:1"; // nothing listens there
        c.backoffInitialMs = 5000;
        c.backoffMaxMs = 5000;
        m_engine = std::make_unique<Engine>(c);
        QVERIFY(m_engine->start().ok());
        send("nowhere");
        QTRY_COMPARE(m_engine->health().overall(), Health::Degraded);
        const QJsonObject fw =
            jsonAt(m_engine->health().toJson("v", "relay", 0), "components/forwarder").toObject();
        QVERIFY(fw["last_error"].toString().contains("cannot reach the runner"));
        QVERIFY(!fw["next_attempt_at"].isNull());
        QCOMPARE(fw["queue"].toInt(), 1);
        QCOMPARE(fw["runner_url"].toString(), QString("http://127.0.0.1:1"));
        // Stopping does not wait out the backoff (it would hold a shutdown for minutes).
        QElapsedTimer stopping;
        stopping.start();
        m_engine->stop();
        QVERIFY2(stopping.elapsed() < 2000, qPrintable(QString::number(stopping.elapsed())));
    }

    void stopMidBackoffResumesAfterRestartExactlyOnce()
    {
        m_runner.script.enqueue(
            HttpResponse::error(503, "busy", "try later").withHeader("Retry-After", "3600"));
        Config c = relayConfig();
        m_engine = std::make_unique<Engine>(c);
        QVERIFY(m_engine->start().ok());
        const Delivery d = send("resume-me");
        QTRY_COMPARE(m_runner.received.size(), 1);
        QTRY_VERIFY(timeline(d.id).contains("attempt_failed"));
        m_engine.reset(); // an hour of Retry-After must not hold the shutdown
        m_engine = std::make_unique<Engine>(c);
        QVERIFY(m_engine->start().ok());
        QCOMPARE(waitFor(d.id).status, QString("applied"));
        QCOMPARE(m_runner.received.size(), 2);
        const QStringList states = timeline(d.id);
        QVERIFY2(states.contains("resumed"), qPrintable(states.join(',')));
        QCOMPARE(states.count("applied"), 1);
        const QByteArray log = TestSupport::readFile(m_engine->confirmationLog()->path());
        QCOMPARE(log.count(d.id.toUtf8()), 1);
    }
};

QTEST_GUILESS_MAIN(tst_Forwarder)
#include "tst_forwarder.moc"
