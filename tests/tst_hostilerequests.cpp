// Intake that is safe to expose: a table of hostile requests sent as raw bytes to the real
// daemon (with a secret and small limits), each answered with the expected status and error
// code, and with the journal and the workspace unchanged afterwards.

#include "daemonprocess.h"
#include "signer.h"
#include "testsupport.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

namespace {
const QByteArray kSecret = "hostile-test-secret";

struct RawAnswer
{
    int status = 0; // 0: the connection closed without an answer
    QByteArray head;
    QByteArray body;
    QByteArray interim; // a 100 Continue, if any
};

// Sends bytes, reads one answer (head + Content-Length body) or until the peer closes.
RawAnswer exchange(quint16 port, const QByteArray &bytes, int timeoutMs = 5000,
                   const QByteArray &afterContinue = {})
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    RawAnswer a;
    if (!s.waitForConnected(timeoutMs))
        return a;
    s.write(bytes);
    QByteArray in;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        if (s.bytesAvailable() == 0 && !s.waitForReadyRead(200) &&
            s.state() != QAbstractSocket::ConnectedState)
            break;
        in += s.readAll();
        if (in.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
            a.interim = in.left(25);
            in.remove(0, 25);
            s.write(afterContinue);
        }
        const qsizetype end = in.indexOf("\r\n\r\n");
        if (end < 0)
            continue;
        a.head = in.left(end);
        qsizetype length = 0;
        for (const QByteArray &line : a.head.split('\n')) {
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        }
        if (in.size() >= end + 4 + length) {
            a.body = in.mid(end + 4, length);
            break;
        }
    }
    in += s.readAll();
    if (a.head.isEmpty() && in.contains("\r\n\r\n"))
        a.head = in.left(in.indexOf("\r\n\r\n"));
    if (a.head.startsWith("HTTP/1.1 "))
        a.status = a.head.mid(9, 3).toInt();
    return a;
}

QByteArray request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                   const QByteArray &extraHeaders = {}, bool auth = true,
                   const QByteArray &type = "application/json")
{
    QByteArray r = method + ' ' + path + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!type.isEmpty())
        r += "Content-Type: " + type + "\r\n";
    if (auth)
        r += "Authorization: Bearer " + kSecret + "\r\n";
    r += extraHeaders;
    r += "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n";
    return r + body;
}

QByteArray envelope(const QByteArray &id, const QByteArray &contents = "x\n")
{
    return "{\"id\":\"" + id + "\",\"mutations\":[{\"path\":\"a.txt\",\"contents\":\"" +
           contents.trimmed() + "\\n\"}]}";
}

QByteArray swHeaders(const QByteArray &id, qint64 ts, const QByteArray &body,
                     const QByteArray &secret = kSecret)
{
    const QByteArray t = QByteArray::number(ts);
    return "webhook-id: " + id + "\r\nwebhook-timestamp: " + t +
           "\r\nwebhook-signature: " + Signer::standardWebhooksSignature(secret, id, t, body) +
           "\r\n";
}
} // namespace

class tst_HostileRequests : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    DaemonProcess m_daemon;
    QString ws() const { return m_dir.path() + "/ws"; }
    int journalCount()
    {
        return httpGet(m_daemon.baseUrl() + "/deliveries?limit=1000")
            .json["deliveries"]
            .toArray()
            .size();
    }

private slots:
    void initTestCase()
    {
        TestSupport::writeTree(
            m_dir.path(), {{"secret", kSecret + "\n"},
                           {"limits.ini", "[server]\nmax_body_bytes = 4096\nmax_header_bytes = "
                                          "8192\nmax_header_count = 50\nrequest_timeout_s = "
                                          "1\n"},
                           {"ws/a.txt", "original\n"}});
        QVERIFY(m_daemon.start({"--port", "0", "--workspace", ws(), "--state-dir",
                                m_dir.path() + "/state", "--secret-file", m_dir.path() + "/secret",
                                "--config", m_dir.path() + "/limits.ini"}));
        // One delivery applied first, so that replays and conflicts have something to repeat.
        const QByteArray body = envelope("seed", "seeded");
        const RawAnswer a = exchange(
            m_daemon.port(),
            request("POST", "/webhook?wait=5", body,
                    swHeaders("msg_seed", QDateTime::currentSecsSinceEpoch(), body), false));
        QCOMPARE(a.status, 200);
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("seeded\n"));
        // The answer follows the log line and the journal; the worker drops the backup just
        // after, and every row below compares the tree with what it was.
        QTRY_COMPARE(TestSupport::sideFiles(ws()), QStringList());
    }

    void hostile_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<int>("status"); // 0: closed without an answer
        QTest::addColumn<QString>("code");
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        const QByteArray ok = envelope("never-applied");
        // -- the request line and headers
        QTest::newRow("garbage line") << QByteArray("GARBAGE\r\n\r\n") << 400 << "bad_request";
        QTest::newRow("no version") << QByteArray("GET /health\r\n\r\n") << 400 << "bad_request";
        QTest::newRow("http/2.0") << QByteArray("GET /health HTTP/2.0\r\n\r\n") << 505
                                  << "http_version_not_supported";
        QTest::newRow("not http") << QByteArray("GET /health FTP/1.0\r\n\r\n") << 400
                                  << "bad_request";
        QTest::newRow("bad method token")
            << QByteArray("G(T /health HTTP/1.1\r\n\r\n") << 400 << "bad_request";
        QTest::newRow("relative target")
            << QByteArray("GET health HTTP/1.1\r\n\r\n") << 400 << "bad_request";
        QTest::newRow("asterisk target")
            << QByteArray("OPTIONS * HTTP/1.1\r\n\r\n") << 400 << "bad_request";
        QTest::newRow("header without colon")
            << QByteArray("GET /health HTTP/1.1\r\nBroken\r\n\r\n") << 400 << "bad_header";
        QTest::newRow("obs-fold") << QByteArray(
                                         "GET /health HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n")
                                  << 400 << "bad_header";
        QTest::newRow("space in name")
            << QByteArray("GET /health HTTP/1.1\r\nBad Name: 1\r\n\r\n") << 400 << "bad_header";
        QByteArray many = "GET /health HTTP/1.1\r\n";
        for (int i = 0; i < 60; ++i)
            many += "X-H" + QByteArray::number(i) + ": v\r\n";
        QTest::newRow("too many headers") << QByteArray(many + "\r\n") << 431 << "too_many_headers";
        QTest::newRow("huge header")
            << QByteArray("GET /health HTTP/1.1\r\nX-Big: " + QByteArray(9000, 'a') + "\r\n\r\n")
            << 431 << "headers_too_large";
        QTest::newRow("endless head")
            << QByteArray("GET /health HTTP/1.1\r\nX-Big: " + QByteArray(20000, 'a')) << 431
            << "headers_too_large";
        // -- framing
        QTest::newRow("length not a number")
            << QByteArray("POST /webhook HTTP/1.1\r\nContent-Length: abc\r\n\r\n") << 400
            << "bad_request";
        QTest::newRow("negative length")
            << QByteArray("POST /webhook HTTP/1.1\r\nContent-Length: -5\r\n\r\n") << 400
            << "bad_request";
        QTest::newRow("conflicting lengths")
            << QByteArray(
                   "POST /webhook HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello")
            << 400 << "bad_request";
        QTest::newRow("length and chunked")
            << QByteArray("POST /webhook HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: "
                          "chunked\r\n\r\n0\r\n\r\n")
            << 400 << "bad_request";
        QTest::newRow("gzip encoding")
            << QByteArray("POST /webhook HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") << 501
            << "unsupported_transfer_encoding";
        QTest::newRow("body over limit")
            << QByteArray("POST /webhook HTTP/1.1\r\nContent-Length: 5000000\r\n\r\n") << 413
            << "body_too_large";
        QTest::newRow("chunked over limit")
            << QByteArray("POST /webhook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" +
                          QByteArray(4096, 'a') + "\r\n1000\r\n" + QByteArray(4096, 'a') +
                          "\r\n0\r\n\r\n")
            << 413 << "body_too_large";
        QTest::newRow("bad chunk size")
            << QByteArray("POST /webhook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            << 400 << "bad_request";
        QTest::newRow("unknown expectation")
            << QByteArray("POST /webhook HTTP/1.1\r\nExpect: magic\r\nContent-Length: 2\r\n\r\n{}")
            << 417 << "expectation_failed";
        QTest::newRow("slow body")
            << QByteArray("POST /webhook HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"id\":") << 408
            << "request_timeout";
        QTest::newRow("slow head")
            << QByteArray("POST /webhook HTTP/1.1\r\nX-Slow: 1") << 408 << "request_timeout";
        // -- content
        QTest::newRow("text/plain") << request("POST", "/webhook", ok, {}, true, "text/plain")
                                    << 415 << "unsupported_media_type";
        QTest::newRow("form encoded")
            << request("POST", "/webhook", "id=1", {}, true, "application/x-www-form-urlencoded")
            << 415 << "unsupported_media_type";
        QTest::newRow("bad json") << request("POST", "/webhook", "{\"id\":") << 400 << "bad_json";
        QTest::newRow("empty body") << request("POST", "/webhook", "") << 400 << "bad_json";
        QTest::newRow("json array")
            << request("POST", "/webhook", "[1,2,3]") << 400 << "bad_envelope";
        QTest::newRow("deep nesting")
            << request("POST", "/webhook", QByteArray(1500, '[') + QByteArray(1500, ']')) << 400
            << "bad_json";
        QTest::newRow("invalid utf-8")
            << request("POST", "/webhook", "{\"id\":\"\xc3\x28\",\"mutations\":[]}") << 400
            << "bad_json";
        QTest::newRow("missing id")
            << request("POST", "/webhook", "{\"mutations\":[]}") << 400 << "missing_id";
        QTest::newRow("unknown format")
            << request("POST", "/webhook", "{\"id\":\"u\",\"format\":\"exe\"}") << 400
            << "unknown_format";
        // -- authentication
        QTest::newRow("no signature")
            << request("POST", "/webhook", ok, {}, false) << 401 << "missing_signature";
        QTest::newRow("bad github signature")
            << request("POST", "/webhook", ok,
                       "X-Hub-Signature-256: sha256=" + QByteArray(64, '0') + "\r\n", false)
            << 401 << "bad_signature";
        QTest::newRow("github wrong secret")
            << request("POST", "/webhook", ok,
                       "X-Hub-Signature-256: " + Signer::githubSignature("wrong", ok) + "\r\n",
                       false)
            << 401 << "bad_signature";
        QTest::newRow("signature of other body")
            << request("POST", "/webhook", ok, swHeaders("msg_t", now, envelope("other")), false)
            << 401 << "bad_signature";
        QTest::newRow("stale timestamp")
            << request("POST", "/webhook", ok, swHeaders("msg_old", now - 400, ok), false) << 401
            << "stale_timestamp";
        QTest::newRow("future timestamp")
            << request("POST", "/webhook", ok, swHeaders("msg_new", now + 400, ok), false) << 401
            << "stale_timestamp";
        QTest::newRow("wrong bearer")
            << request("POST", "/webhook", ok, "Authorization: Bearer nope\r\n", false) << 401
            << "bad_token";
        QTest::newRow("replay needs token")
            << request("POST", "/deliveries/x/replay", "", {}, false) << 401 << "missing_signature";
        // -- repeats
        QTest::newRow("replayed webhook-id")
            << request("POST", "/webhook", envelope("seed", "seeded"),
                       swHeaders("msg_seed", now, envelope("seed", "seeded")), false)
            << 200 << "";
        QTest::newRow("conflicting duplicate")
            << request("POST", "/webhook", envelope("seed", "different")) << 409 << "conflict";
        // -- routes
        QTest::newRow("get webhook")
            << request("GET", "/webhook", "") << 405 << "method_not_allowed";
        QTest::newRow("delete delivery")
            << request("DELETE", "/deliveries/abc", "") << 405 << "method_not_allowed";
        QTest::newRow("unknown path") << request("POST", "/admin", ok) << 404 << "not_found";
        QTest::newRow("dot segments")
            << request("GET", "/deliveries/../health", "") << 404 << "not_found";
        QTest::newRow("encoded nul") << request("POST", "/webhook%00", ok) << 404 << "not_found";
        QTest::newRow("replay unknown")
            << request("POST", "/deliveries/nope/replay", "") << 404 << "not_found";
    }
    void hostile()
    {
        QFETCH(QByteArray, raw);
        QFETCH(int, status);
        QFETCH(QString, code);
        const auto treeBefore = TestSupport::readTree(ws());
        const int deliveriesBefore = journalCount();
        const RawAnswer a = exchange(m_daemon.port(), raw);
        QCOMPARE(a.status, status);
        if (!code.isEmpty()) {
            const QJsonObject e = QJsonDocument::fromJson(a.body).object()["error"].toObject();
            QCOMPARE(e["code"].toString(), code);
            QVERIFY(!e["message"].toString().isEmpty());
        }
        QCOMPARE(journalCount(), deliveriesBefore);
        QCOMPARE(TestSupport::readTree(ws()), treeBefore);
    }

    void expectContinueIsAnswered()
    {
        const QByteArray body = envelope("continued");
        QByteArray head =
            "POST /webhook HTTP/1.1\r\nContent-Type: application/json\r\nAuthorization: Bearer " +
            kSecret +
            "\r\nExpect: 100-continue\r\nContent-Length: " + QByteArray::number(body.size()) +
            "\r\n\r\n";
        const RawAnswer a = exchange(m_daemon.port(), head, 5000, body);
        QCOMPARE(a.interim, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
        QCOMPARE(a.status, 202);
    }

    void oversizeAnsweredBeforeTheBody()
    {
        // 413 comes from Content-Length alone: nothing of the body is sent or read.
        const RawAnswer a =
            exchange(m_daemon.port(), "POST /webhook HTTP/1.1\r\nContent-Length: 104857600\r\n"
                                      "Expect: 100-continue\r\n\r\n");
        QCOMPARE(a.status, 413);
        QVERIFY(a.interim.isEmpty());
    }

    void rejectionsAreCounted()
    {
        const QByteArray metrics = httpGet(m_daemon.baseUrl() + "/metrics").body;
        QVERIFY(
            metrics.contains("ghost_runner_rejected_requests_total{reason=\"body_too_large\"}"));
        QVERIFY(metrics.contains("ghost_runner_rejected_requests_total{reason=\"bad_signature\"}"));
        QVERIFY(metrics.contains("ghost_runner_rejected_requests_total{reason=\"slow_client\"}"));
    }
};

QTEST_GUILESS_MAIN(tst_HostileRequests)
#include "tst_hostilerequests.moc"
