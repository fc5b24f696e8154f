// The HTTP API over a real in-process Engine on a loopback port: routing and methods, intake
// answers and errors, authentication, read_access, ?wait, replay, adoption of a relay's
// X-Ghost-Runner-Delivery, and what refused requests leave behind (nothing journaled).

#include "daemonprocess.h"
#include "engine.h"
#include "eventstream.h"
#include "signer.h"
#include "testsupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QNetworkInterface>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <functional>
#include <memory>

using Headers = QList<QPair<QByteArray, QByteArray>>;

namespace {
QByteArray mutation(const QString &id, const QString &path = "a.txt", const QString &text = "x")
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"mutations",
                                      QJsonArray{QJsonObject{{"path", path}, {"contents", text}}}}})
        .toJson(QJsonDocument::Compact);
}

// A pattern patch that matches nothing: it fails, and changes nothing.
QByteArray failing(const QString &id)
{
    return QJsonDocument(
               QJsonObject{{"id", id},
                           {"target_file", "keep.txt"},
                           {"patch", QJsonObject{{"pattern", "absent"}, {"replacement", "y"}}}})
        .toJson(QJsonDocument::Compact);
}

// One raw HTTP/1.1 exchange (Connection: close) from a chosen address, with the event loop
// running so the in-process server can answer.
struct RawReply
{
    int status = 0;
    QByteArray head;
    QByteArray body;
    QJsonObject json;
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const int colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return QByteArray();
    }
};
RawReply rawExchange(const QHostAddress &to, quint16 port, const QByteArray &request)
{
    QTcpSocket s;
    QByteArray in;
    QObject::connect(&s, &QTcpSocket::readyRead, [&] { in += s.readAll(); });
    QSignalSpy closed(&s, &QTcpSocket::disconnected);
    s.connectToHost(to, port);
    s.write(request);
    if (!closed.wait(5000))
        return {};
    RawReply r;
    const int end = in.indexOf("\r\n\r\n");
    r.head = in.left(end);
    r.body = in.mid(end + 4);
    r.status = r.head.mid(9, 3).toInt();
    r.json = QJsonDocument::fromJson(r.body).object();
    return r;
}

QHostAddress nonLoopbackAddress()
{
    for (const QHostAddress &a : QNetworkInterface::allAddresses()) {
        if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback())
            return a;
    }
    return QHostAddress();
}
} // namespace

class tst_WebhookServer : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Engine> m_engine;
    QString m_key;

    QString base() const { return "http://" + m_engine->listeningAddress(); }
    QString ws() const { return m_dir->filePath("ws"); }
    // Starts an engine on a fresh state directory and workspace. Data rows and tests that pass
    // the same key share one engine, so they must not depend on what the others left behind.
    bool useEngine(const QString &key = {}, const std::function<void(Config &)> &adjust = {})
    {
        if (!key.isEmpty() && m_engine && key == m_key)
            return true;
        m_engine.reset();
        m_key = key;
        m_dir = std::make_unique<QTemporaryDir>();
        if (!m_dir->isValid() || !QDir().mkpath(ws()))
            return false;
        TestSupport::writeTree(ws(), {{"keep.txt", "keep\n"}});
        Config c;
        c.port = 0;
        c.workspace = ws();
        c.stateDir = m_dir->filePath("state");
        if (adjust)
            adjust(c);
        m_engine = std::make_unique<Engine>(c);
        const Status s = m_engine->start();
        if (!s.ok())
            qWarning("%s", qPrintable(s.error().message));
        return s.ok();
    }
    HttpReply call(const QByteArray &method, const QString &path, const QByteArray &body = {},
                   const Headers &headers = {})
    {
        return httpRequest(method, base() + path, body, headers, 5000);
    }
    HttpReply post(const QString &path, const QByteArray &body, Headers headers = {})
    {
        headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
        return call("POST", path, body, headers);
    }
    qint64 journaled() const
    {
        qint64 n = 0;
        for (qint64 v : m_engine->journal()->countsByStatus())
            n += v;
        return n;
    }
    QString statusOf(const QString &id) const
    {
        const Result<Delivery> d = m_engine->journal()->find(id, false);
        return d.ok() ? d->status : QString();
    }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules("ghostrunner.*.info=false\nghostrunner.*.warning=false");
        qRegisterMetaType<Outcome>();
    }
    void cleanupTestCase()
    {
        m_engine.reset();
        m_dir.reset();
    }

    void routes_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code"); // the error code, if an error
        QTest::addColumn<QByteArray>("allow");
        QTest::newRow("index") << QByteArray("GET") << "/" << 200 << QString() << QByteArray();
        QTest::newRow("health") << QByteArray("GET") << "/health" << 200 << QString()
                                << QByteArray();
        QTest::newRow("HEAD health")
            << QByteArray("HEAD") << "/health" << 200 << QString() << QByteArray();
        QTest::newRow("deliveries")
            << QByteArray("GET") << "/deliveries" << 200 << QString() << QByteArray();
        QTest::newRow("metrics") << QByteArray("GET") << "/metrics" << 200 << QString()
                                 << QByteArray();
        QTest::newRow("unknown path")
            << QByteArray("GET") << "/nope" << 404 << "not_found" << QByteArray();
        QTest::newRow("path is case-sensitive")
            << QByteArray("GET") << "/Health" << 404 << "not_found" << QByteArray();
        QTest::newRow("GET /webhook")
            << QByteArray("GET") << "/webhook" << 405 << "method_not_allowed" << QByteArray("POST");
        QTest::newRow("PUT /patch")
            << QByteArray("PUT") << "/patch" << 405 << "method_not_allowed" << QByteArray("POST");
        QTest::newRow("POST /health")
            << QByteArray("POST") << "/health" << 405 << "method_not_allowed" << QByteArray("GET");
        QTest::newRow("DELETE /deliveries") << QByteArray("DELETE") << "/deliveries" << 405
                                            << "method_not_allowed" << QByteArray("GET");
        QTest::newRow("POST /metrics")
            << QByteArray("POST") << "/metrics" << 405 << "method_not_allowed" << QByteArray("GET");
        QTest::newRow("POST /events")
            << QByteArray("POST") << "/events" << 405 << "method_not_allowed" << QByteArray("GET");
        QTest::newRow("GET replay") << QByteArray("GET") << "/deliveries/x/replay" << 405
                                    << "method_not_allowed" << QByteArray("POST");
        QTest::newRow("unknown delivery")
            << QByteArray("GET") << "/deliveries/no-such-id" << 404 << "not_found" << QByteArray();
        QTest::newRow("empty delivery id")
            << QByteArray("GET") << "/deliveries/" << 404 << "not_found" << QByteArray();
        QTest::newRow("unknown sub-resource")
            << QByteArray("GET") << "/deliveries/x/y" << 404 << "not_found" << QByteArray();
        QTest::newRow("replay of an unknown delivery")
            << QByteArray("POST") << "/deliveries/no-such-id/replay" << 404 << "not_found"
            << QByteArray();
    }
    void routes()
    {
        QVERIFY(useEngine("nothing journaled"));
        QFETCH(QByteArray, method);
        QFETCH(QString, path);
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(QByteArray, allow);
        // Raw, so that HEAD is a real HEAD and nothing is added to the request.
        const RawReply r = rawExchange(QHostAddress::LocalHost, m_engine->port(),
                                       method + ' ' + path.toUtf8() +
                                           " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                           "Content-Length: 0\r\n\r\n");
        QCOMPARE(r.status, status);
        QCOMPARE(r.json["error"]["code"].toString(), code);
        if (!code.isEmpty())
            QVERIFY(!r.json["error"]["message"].toString().isEmpty());
        QCOMPARE(r.header("Allow"), allow);
        if (method == "HEAD") {
            QVERIFY(r.body.isEmpty());
            QVERIFY(r.header("Content-Length").toInt() > 0); // what a GET would carry
        }
        QCOMPARE(journaled(), qint64(0));
    }

    void indexListsTheEndpoints()
    {
        QVERIFY(useEngine("nothing journaled"));
        const HttpReply r = call("GET", "/");
        QCOMPARE(r.json["name"].toString(), QString("ghost-runner"));
        QCOMPARE(r.json["version"].toString(), QString(GR_VERSION));
        QVERIFY(r.json["endpoints"].toArray().contains(QJsonValue("POST /webhook")));
        QCOMPARE(r.json["endpoints"].toArray().size(), 8);
    }

    void intakeAnswersQueued_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("webhook") << "/webhook";
        QTest::newRow("patch") << "/patch";
    }
    void intakeAnswersQueued()
    {
        QVERIFY(useEngine());
        QFETCH(QString, path);
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        const HttpReply r = post(path, mutation("p1"));
        QCOMPARE(r.status, 202);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        const QString id = r.json["delivery"].toString();
        QVERIFY(!QUuid::fromString(id).isNull());
        QCOMPARE(r.json.keys(), (QStringList{"delivery", "id", "links", "status"}));
        QCOMPARE(r.json["id"].toString(), QString("p1"));
        QCOMPARE(r.json["status"].toString(), QString("queued"));
        QCOMPARE(r.json["links"]["self"].toString(), "/deliveries/" + id);
        // Committed before the answer, then applied.
        QVERIFY(m_engine->journal()->find(id, false).ok());
        QTRY_COMPARE_WITH_TIMEOUT(statusOf(id), QString("applied"), 3000);
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("x"));
        QCOMPARE(call("GET", "/deliveries/" + id).json["status"].toString(), QString("applied"));
    }

    void refusedIntakeJournalsNothing_data()
    {
        QTest::addColumn<QByteArray>("contentType"); // sent as is
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("query");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        const QByteArray json = "application/json";
        QTest::newRow("not JSON") << QByteArray("text/plain") << mutation("a") << QString() << 415
                                  << "unsupported_media_type";
        QTest::newRow("form") << QByteArray("application/x-www-form-urlencoded") << mutation("a")
                              << QString() << 415 << "unsupported_media_type";
        QTest::newRow("bad JSON") << json << QByteArray("{\"id\":") << QString() << 400
                                  << "bad_json";
        QTest::newRow("empty body") << json << QByteArray() << QString() << 400 << "bad_json";
        QTest::newRow("array") << json << QByteArray("[]") << QString() << 400 << "bad_envelope";
        QTest::newRow("no id") << json << QByteArray(R"({"mutations":[]})") << QString() << 400
                               << "missing_id";
        QTest::newRow("unknown format") << json << QByteArray(R"({"id":"u","format":"zip"})")
                                        << QString() << 400 << "unknown_format";
        QTest::newRow("wait not a number")
            << json << mutation("w") << "?wait=soon" << 400 << "bad_request";
        QTest::newRow("negative wait")
            << json << mutation("w") << "?wait=-1" << 400 << "bad_request";
    }
    void refusedIntakeJournalsNothing()
    {
        QVERIFY(useEngine("nothing journaled"));
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(QString, query);
        QFETCH(int, status);
        QFETCH(QString, code);
        const HttpReply r = call("POST", "/webhook" + query, body, {{"Content-Type", contentType}});
        QCOMPARE(r.status, status);
        QCOMPARE(r.json["error"]["code"].toString(), code);
        QVERIFY(!r.json["error"]["message"].toString().isEmpty());
        QCOMPARE(journaled(), qint64(0));
        QVERIFY(QDir(m_engine->config().stateDir + "/patches").isEmpty());
    }

    void acceptedContentTypes_data()
    {
        QTest::addColumn<QByteArray>("header"); // empty: none sent
        QTest::newRow("none") << QByteArray();
        QTest::newRow("with charset") << QByteArray("application/json; charset=utf-8");
        QTest::newRow("upper case") << QByteArray("Application/JSON");
        QTest::newRow("+json") << QByteArray("application/vnd.github+json");
    }
    void acceptedContentTypes()
    {
        QVERIFY(useEngine("content types"));
        QFETCH(QByteArray, header);
        const qint64 before = journaled();
        const QByteArray body = mutation(QString("ct-") + QTest::currentDataTag());
        QByteArray request = "POST /webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
        if (!header.isEmpty())
            request += "Content-Type: " + header + "\r\n";
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        const RawReply r = rawExchange(QHostAddress::LocalHost, m_engine->port(), request);
        QCOMPARE(r.status, 202);
        QCOMPARE(journaled(), before + 1);
    }

    void duplicatesAndConflicts()
    {
        QVERIFY(useEngine());
        const HttpReply first = post("/webhook", mutation("d1"));
        QCOMPARE(first.status, 202);
        const HttpReply again = post("/webhook", mutation("d1"));
        QCOMPARE(again.status, 200);
        QCOMPARE(again.json["duplicate"].toBool(), true);
        QCOMPARE(again.json["delivery"], first.json["delivery"]);
        const HttpReply other = post("/webhook", mutation("d1", "a.txt", "different"));
        QCOMPARE(other.status, 409);
        QCOMPARE(other.json["error"]["code"].toString(), QString("conflict"));
        QVERIFY(
            other.json["error"]["message"].toString().contains(first.json["delivery"].toString()));
        QCOMPARE(journaled(), qint64(1));
    }

    void waitForTheOutcome_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("result");
        QTest::newRow("applied") << mutation("w1") << 200 << "applied";
        QTest::newRow("failed") << failing("w2") << 422 << "failed";
    }
    void waitForTheOutcome()
    {
        QVERIFY(useEngine());
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, result);
        const HttpReply r = post("/webhook?wait=10", body);
        QCOMPARE(r.status, status);
        QCOMPARE(r.json["status"].toString(), result);
        // The same record as GET /deliveries/{id}, timeline included.
        const HttpReply record = call("GET", "/deliveries/" + r.json["delivery"].toString());
        QCOMPARE(r.json, record.json);
        QCOMPARE(r.json["timeline"].toArray().last()["state"].toString(), result);
        if (result == QLatin1String("failed")) {
            QCOMPARE(r.json["error"]["code"].toString(), QString("no_match"));
            QCOMPARE(TestSupport::readTree(ws()),
                     (QMap<QString, QByteArray>{{"keep.txt", "keep\n"}}));
        }
        // Waiting for a delivery that already finished answers at once.
        const HttpReply repeat = post("/webhook?wait=10", body);
        QCOMPARE(repeat.status, status);
        QCOMPARE(repeat.json["delivery"], r.json["delivery"]);
    }

    void waitZeroDoesNotWait()
    {
        QVERIFY(useEngine());
        const HttpReply r = post("/webhook?wait=0", mutation("w0"));
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json["status"].toString(), QString("queued"));
    }

    void waitIsCappedAndAnswersWithTheCurrentState()
    {
        QVERIFY(useEngine({}, [](Config &c) {
            c.maxWaitS = 1;
            c.startPaused = true;
        }));
        QElapsedTimer t;
        t.start();
        const HttpReply r = post("/webhook?wait=3600", mutation("held"));
        QVERIFY2(t.elapsed() < 2500, "max_wait_s did not cap the wait");
        QVERIFY(t.elapsed() >= 900);
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json["status"].toString(), QString("queued"));
        QVERIFY(r.json["timeline"].isArray());
        QCOMPARE(statusOf(r.json["delivery"].toString()), QString("queued"));
    }

    void fullQueueAnswers429()
    {
        QVERIFY(useEngine({}, [](Config &c) {
            c.maxQueue = 1;
            c.startPaused = true;
        }));
        QCOMPARE(post("/webhook", mutation("q1")).status, 202);
        const HttpReply r = post("/webhook", mutation("q2"));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.json["error"]["code"].toString(), QString("queue_full"));
        QCOMPARE(r.header("Retry-After"), QByteArray("1"));
        QCOMPARE(journaled(), qint64(1));
        QVERIFY(m_engine->renderMetrics().contains(
            "ghost_runner_rejected_requests_total{reason=\"queue_full\"} 1"));
        QVERIFY(m_engine->renderMetrics().contains(
            "ghost_runner_intake_responses_total{code=\"429\"} 1"));
    }

    // The disk refuses to flush the journal: the sender hears 503 with Retry-After (never a
    // 202), and nothing stays journaled.
    void aJournalThatCannotBeFlushedAnswers503()
    {
        QVERIFY(useEngine({}, [](Config &c) { c.startPaused = true; }));
        qputenv("GHOST_RUNNER_FAIL_AT", "journal-sync");
        const HttpReply r = post("/webhook", mutation("unflushed"));
        qunsetenv("GHOST_RUNNER_FAIL_AT");
        QCOMPARE(r.status, 503);
        QCOMPARE(r.json["error"]["code"].toString(), QString("journal_failed"));
        QVERIFY(!r.header("Retry-After").isEmpty());
        QCOMPARE(journaled(), qint64(0));
        QCOMPARE(post("/webhook", mutation("unflushed")).status, 202);
        QCOMPARE(journaled(), qint64(1));
    }

    void authentication_data()
    {
        QTest::addColumn<QString>("scheme");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("source");
        QTest::newRow("none") << "none" << 401 << "missing_signature" << QString();
        QTest::newRow("github") << "github" << 202 << QString() << "github";
        QTest::newRow("github, wrong secret")
            << "github-wrong" << 401 << "bad_signature" << QString();
        QTest::newRow("standard webhooks") << "standard" << 202 << QString() << "standard-webhooks";
        QTest::newRow("standard webhooks, stale")
            << "standard-stale" << 401 << "stale_timestamp" << QString();
        QTest::newRow("bearer") << "bearer" << 202 << QString() << "bearer";
        QTest::newRow("bearer, wrong token") << "bearer-wrong" << 401 << "bad_token" << QString();
    }
    void authentication()
    {
        QFETCH(QString, scheme);
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(QString, source);
        QVERIFY(useEngine("secret", [](Config &c) { c.secret = "s3cret"; }));
        const qint64 before = journaled();
        const QByteArray body = mutation("auth-" + scheme);
        Headers h;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        if (scheme == "github")
            h = {{"X-Hub-Signature-256", Signer::githubSignature("s3cret", body)}};
        else if (scheme == "github-wrong")
            h = {{"X-Hub-Signature-256", Signer::githubSignature("other", body)}};
        else if (scheme == "standard")
            h = Signer::signedHeaders("s3cret", "msg_ok", body, now);
        else if (scheme == "standard-stale")
            h = Signer::signedHeaders("s3cret", "msg_stale", body, now.addSecs(-3600));
        else if (scheme == "bearer")
            h = {{"Authorization", "Bearer s3cret"}};
        else if (scheme == "bearer-wrong")
            h = {{"Authorization", "Bearer guess"}};
        const HttpReply r = post("/webhook", body, h);
        QCOMPARE(r.status, status);
        if (status == 401) {
            QCOMPARE(r.json["error"]["code"].toString(), code);
            QCOMPARE(r.header("WWW-Authenticate"), QByteArray("Bearer"));
            QCOMPARE(journaled(), before);
            QVERIFY(m_engine->renderMetrics().contains(
                "ghost_runner_rejected_requests_total{reason=\"" + code.toUtf8() + "\"} 1"));
        } else {
            QCOMPARE(journaled(), before + 1);
            QCOMPARE(m_engine->journal()->find(r.json["delivery"].toString(), false)->source,
                     source);
        }
    }

    void senderDeliveryIdsAreNeverAppliedTwice()
    {
        QVERIFY(useEngine({}, [](Config &c) { c.secret = "s3cret"; }));
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QByteArray one = mutation("first");
        const HttpReply a =
            post("/webhook", one, Signer::signedHeaders("s3cret", "msg_7", one, now));
        QCOMPARE(a.status, 202);
        // A replayed webhook-id answers with the delivery it named, even with another body.
        const QByteArray two = mutation("second");
        const HttpReply b =
            post("/webhook", two, Signer::signedHeaders("s3cret", "msg_7", two, now));
        QCOMPARE(b.status, 200);
        QCOMPARE(b.json["delivery"], a.json["delivery"]);
        QCOMPARE(b.json["duplicate"].toBool(), true);
        QCOMPARE(journaled(), qint64(1));
    }

    void relayDeliveryIdIsAdopted_data()
    {
        // How the relay's id is written; each row uses its own uuid.
        QTest::addColumn<QString>("form");
        QTest::addColumn<bool>("adopted");
        QTest::newRow("plain uuid") << "%1" << true;
        QTest::newRow("braces") << "{%1}" << true;
        QTest::newRow("upper case") << "upper" << true;
        QTest::newRow("not a uuid") << "../../etc/passwd" << false;
        QTest::newRow("null uuid") << "00000000-0000-0000-0000-000000000000" << false;
    }
    void relayDeliveryIdIsAdopted()
    {
        QVERIFY(useEngine("adoption"));
        QFETCH(QString, form);
        QFETCH(bool, adopted);
        const QString uuid = QUuid::createUuid().toString(QUuid::WithoutBraces);
        const QString header = form == QLatin1String("upper") ? uuid.toUpper() : form.arg(uuid);
        const HttpReply r = post("/patch", mutation(QString("relayed-") + QTest::currentDataTag()),
                                 {{"X-Ghost-Runner-Delivery", header.toUtf8()}});
        QCOMPARE(r.status, 202);
        const QString id = r.json["delivery"].toString();
        if (adopted) {
            QCOMPARE(id, uuid);
        } else {
            QVERIFY(!QUuid::fromString(id).isNull());
            QVERIFY(id != header);
        }
        QVERIFY(m_engine->journal()->find(id, false).ok());
        m_engine->flushArchive();
        QVERIFY(QFile::exists(m_engine->config().stateDir + "/patches/" + id + ".json"));
    }

    void adoptedIdThatIsTakenIsAConflict()
    {
        QVERIFY(useEngine());
        // A delivery id names one delivery: another patch claiming it is refused, and the
        // journal stays healthy.
        const HttpReply first = post("/webhook?wait=10", mutation("owner"));
        QCOMPARE(first.status, 200);
        const QByteArray taken = first.json["delivery"].toString().toUtf8();
        const HttpReply r =
            post("/patch", mutation("intruder"), {{"X-Ghost-Runner-Delivery", taken}});
        QCOMPARE(r.status, 409);
        QCOMPARE(r.json["error"]["code"].toString(), QString("conflict"));
        QVERIFY(r.json["error"]["message"].toString().contains(QString::fromUtf8(taken)));
        QCOMPARE(journaled(), qint64(1));
        QCOMPARE(m_engine->journal()->find(QString::fromUtf8(taken), false)->patchId,
                 QString("owner"));
        const HttpReply health = call("GET", "/health");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.json["status"].toString(), QString("ok"));
        // The same relay delivery again (its webhook-id) is still a plain duplicate.
        const HttpReply again = post("/patch", mutation("owner"),
                                     {{"X-Ghost-Runner-Delivery", taken}, {"webhook-id", taken}});
        QCOMPARE(again.status, 200);
        QCOMPARE(again.json["delivery"].toString(), QString::fromUtf8(taken));
    }

    void readAccess_data()
    {
        QTest::addColumn<QString>("access");
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<int>("status");
        QTest::newRow("open") << "open" << QByteArray() << 200;
        QTest::newRow("loopback, from loopback") << "loopback" << QByteArray() << 200;
        QTest::newRow("token, none") << "token" << QByteArray() << 401;
        QTest::newRow("token, wrong") << "token" << QByteArray("Bearer nope") << 401;
        QTest::newRow("token, right") << "token" << QByteArray("Bearer s3cret") << 200;
    }
    void readAccess()
    {
        QFETCH(QString, access);
        QFETCH(QByteArray, authorization);
        QFETCH(int, status);
        QVERIFY(useEngine("read access " + access, [&](Config &c) {
            c.readAccess = access;
            c.secret = "s3cret";
        }));
        Headers h;
        if (!authorization.isEmpty())
            h.append(qMakePair(QByteArray("Authorization"), authorization));
        for (const char *path : {"/health", "/deliveries", "/metrics", "/deliveries/x"}) {
            const HttpReply r = call("GET", path, {}, h);
            const int expected =
                (status == 200 && qstrcmp(path, "/deliveries/x") == 0) ? 404 : status;
            QVERIFY2(r.status == expected, path);
            if (status == 401)
                QCOMPARE(r.header("WWW-Authenticate"), QByteArray("Bearer"));
        }
        // Intake is governed by its own signature rules, not by read_access.
        QCOMPARE(post("/webhook", mutation(QString("r-") + QTest::currentDataTag()),
                      {{"Authorization", "Bearer s3cret"}})
                     .status,
                 202);
    }

    void loopbackOnlyFromElsewhere()
    {
        const QHostAddress lan = nonLoopbackAddress();
        if (lan.isNull())
            QSKIP("no non-loopback address to connect from");
        QVERIFY(useEngine({}, [](Config &c) {
            c.bind = "0.0.0.0";
            c.readAccess = "loopback";
        }));
        const RawReply r = rawExchange(
            lan, m_engine->port(), "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QCOMPARE(r.status, 403);
        QCOMPARE(r.json["error"]["code"].toString(), QString("forbidden"));
        // Replay without a secret is loopback-only, too.
        const RawReply replay =
            rawExchange(lan, m_engine->port(),
                        "POST /deliveries/x/replay HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        "Content-Length: 0\r\n\r\n");
        QCOMPARE(replay.status, 403);
        const RawReply local =
            rawExchange(QHostAddress::LocalHost, m_engine->port(),
                        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QCOMPARE(local.status, 200);
    }

    void replay()
    {
        QVERIFY(useEngine());
        const HttpReply first = post("/webhook?wait=10", mutation("again", "a.txt", "1"));
        QCOMPARE(first.status, 200);
        const QString id = first.json["delivery"].toString();
        QVERIFY(TestSupport::writeFile(ws() + "/a.txt", "changed meanwhile"));
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        const HttpReply r = call("POST", "/deliveries/" + id + "/replay");
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json["replay_of"].toString(), id);
        QCOMPARE(r.json["status"].toString(), QString("queued"));
        const QString replayId = r.json["delivery"].toString();
        QVERIFY(replayId != id);
        QTRY_COMPARE_WITH_TIMEOUT(statusOf(replayId), QString("applied"), 3000);
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("1"));
        QCOMPARE(call("GET", "/deliveries/" + replayId).json["replay_of"].toString(), id);
    }

    void replayNeedsAFinishedDeliveryAndTheToken()
    {
        QVERIFY(useEngine({}, [](Config &c) {
            c.secret = "s3cret";
            c.startPaused = true;
        }));
        const Headers bearer{{"Authorization", "Bearer s3cret"}};
        const HttpReply held = post("/webhook", mutation("held"), bearer);
        QCOMPARE(held.status, 202);
        const QString path = "/deliveries/" + held.json["delivery"].toString() + "/replay";
        const HttpReply unsigned_ = call("POST", path);
        QCOMPARE(unsigned_.status, 401);
        QCOMPARE(unsigned_.json["error"]["code"].toString(), QString("missing_signature"));
        const HttpReply early = call("POST", path, {}, bearer);
        QCOMPARE(early.status, 409);
        QCOMPARE(early.json["error"]["code"].toString(), QString("not_finished"));
        QCOMPARE(journaled(), qint64(1));
    }

    void deliveriesQueryErrors_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<int>("status");
        QTest::newRow("no filter") << "" << 200;
        QTest::newRow("limit 1") << "?limit=1" << 200;
        QTest::newRow("limit 1000") << "?limit=1000" << 200;
        QTest::newRow("limit 0") << "?limit=0" << 400;
        QTest::newRow("limit 1001") << "?limit=1001" << 400;
        QTest::newRow("limit word") << "?limit=ten" << 400;
        QTest::newRow("since ISO") << "?since=2026-01-01T00:00:00.000Z" << 200;
        QTest::newRow("since ms") << "?since=1700000000000" << 200;
        QTest::newRow("since garbage") << "?since=yesterday" << 400;
        QTest::newRow("until garbage") << "?until=later" << 400;
        QTest::newRow("before word") << "?before=x" << 400;
    }
    void deliveriesQueryErrors()
    {
        QVERIFY(useEngine("nothing journaled"));
        QFETCH(QString, query);
        QFETCH(int, status);
        const HttpReply r = call("GET", "/deliveries" + query);
        QCOMPARE(r.status, status);
        if (status == 400)
            QCOMPARE(r.json["error"]["code"].toString(), QString("bad_request"));
        else
            QVERIFY(r.json["deliveries"].isArray());
    }

    // A ?wait answer counts as what it was (200, 422), not as the 202 it would have been.
    void waitAnswersAreCountedByTheirStatus()
    {
        QVERIFY(useEngine());
        QCOMPARE(post("/webhook?wait=10", mutation("m-ok")).status, 200);
        QCOMPARE(post("/webhook?wait=10", failing("m-bad")).status, 422);
        QCOMPARE(post("/webhook", mutation("m-queued", "b.txt")).status, 202);
        const QByteArray text = call("GET", "/metrics").body;
        for (const char *line : {"ghost_runner_intake_responses_total{code=\"200\"} 1\n",
                                 "ghost_runner_intake_responses_total{code=\"422\"} 1\n",
                                 "ghost_runner_intake_responses_total{code=\"202\"} 1\n",
                                 "ghost_runner_intake_duration_seconds_count 3\n"})
            QVERIFY2(text.contains(line), line);
    }

    void deliveriesFilterAndPage()
    {
        QVERIFY(useEngine());
        QCOMPARE(post("/webhook?wait=10", mutation("ok-1")).status, 200);
        QCOMPARE(post("/webhook?wait=10", failing("bad-1")).status, 422);
        QCOMPARE(post("/webhook?wait=10", mutation("ok-2", "b.txt")).status, 200);
        const HttpReply failed = call("GET", "/deliveries?status=failed");
        QCOMPARE(failed.json["deliveries"].toArray().size(), 1);
        QCOMPARE(failed.json["deliveries"][0]["id"].toString(), QString("bad-1"));
        QVERIFY(!failed.json["deliveries"][0].toObject().contains("timeline"));
        const HttpReply byId = call("GET", "/deliveries?id=ok-2");
        QCOMPARE(byId.json["deliveries"].toArray().size(), 1);
        // Newest first, two at a time, following "next".
        const HttpReply page1 = call("GET", "/deliveries?limit=2");
        QCOMPARE(page1.json["deliveries"][0]["id"].toString(), QString("ok-2"));
        QCOMPARE(page1.json["deliveries"][1]["id"].toString(), QString("bad-1"));
        const QString next = page1.json["next"].toString();
        QVERIFY(next.startsWith("/deliveries?"));
        const HttpReply page2 = call("GET", next);
        QCOMPARE(page2.json["deliveries"].toArray().size(), 1);
        QCOMPARE(page2.json["deliveries"][0]["id"].toString(), QString("ok-1"));
        QVERIFY(!page2.json.contains("next"));
    }

    void healthIs503WhenFailing()
    {
        QVERIFY(useEngine());
        QCOMPARE(call("GET", "/health").json["status"].toString(), QString("ok"));
        QVERIFY(QDir(ws()).removeRecursively());
        const HttpReply r = call("GET", "/health");
        QCOMPARE(r.status, 503);
        QCOMPARE(r.json["status"].toString(), QString("failing"));
        QCOMPARE(r.json["components"]["executor"]["status"].toString(), QString("failing"));
        QCOMPARE(r.json["components"]["executor"]["writable"].toBool(), false);
        // Degraded still answers 200: the daemon works, with a caveat.
        QVERIFY(QDir().mkpath(ws()));
        m_engine->setPaused(true);
        const HttpReply paused = call("GET", "/health");
        QCOMPARE(paused.status, 200);
        QCOMPARE(paused.json["status"].toString(), QString("degraded"));
    }

    void eventsResumeFromHeaderOrQuery_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::newRow("Last-Event-ID header")
            << QByteArray("GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1\r\n\r\n");
        QTest::newRow("last_event_id query")
            << QByteArray("GET /events?last_event_id=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    void eventsResumeFromHeaderOrQuery()
    {
        QVERIFY(useEngine());
        QFETCH(QByteArray, request);
        const HttpReply done = post("/webhook?wait=10", mutation("ev"));
        QCOMPARE(done.status, 200);
        const qint64 last = m_engine->events()->lastId();
        QVERIFY(last >= 3); // queued, applying, applied
        QTcpSocket s;
        QByteArray in;
        connect(&s, &QTcpSocket::readyRead, this, [&] { in += s.readAll(); });
        s.connectToHost(QHostAddress::LocalHost, m_engine->port());
        s.write(request);
        QTRY_VERIFY_WITH_TIMEOUT(in.contains("id: " + QByteArray::number(last) + "\n"), 3000);
        QVERIFY(in.startsWith("HTTP/1.1 200 OK\r\n"));
        QVERIFY(!in.contains("id: 1\n"));
        QVERIFY(in.contains("id: 2\n"));
        QVERIFY(in.contains("\"id\":\"ev\""));
        QVERIFY(in.contains("\"status\":\"applied\""));
        QCOMPARE(m_engine->events()->subscriberCount(), 1);
    }
};

QTEST_GUILESS_MAIN(tst_WebhookServer)
#include "tst_webhookserver.moc"
