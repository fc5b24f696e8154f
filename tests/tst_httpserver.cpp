#include "httpserver.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>
#include <memory>

namespace {

// Answers every request with what it received, as JSON. "/later?ms=N" answers after N ms
// through a QPointer, as wait mode does; "?status=N" picks the status.
class EchoHandler final : public HttpHandler
{
public:
    QList<HttpRequest> seen;
    int deferredAnswered = 0;
    int deferredDropped = 0;

    static HttpResponse echo(const HttpRequest &r)
    {
        QJsonObject headers;
        for (const auto &h : r.headers)
            headers.insert(QString::fromLatin1(h.first).toLower(), QString::fromUtf8(h.second));
        const int status =
            r.query.hasQueryItem("status") ? r.query.queryItemValue("status").toInt() : 200;
        return HttpResponse::json(status, QJsonObject{{"method", QString::fromLatin1(r.method)},
                                                      {"path", r.path},
                                                      {"target", QString::fromLatin1(r.target)},
                                                      {"version", QString::fromLatin1(r.version)},
                                                      {"body", QString::fromUtf8(r.body)},
                                                      {"headers", headers}});
    }

    void handle(const HttpRequest &request, HttpConnection *connection) override
    {
        seen.append(request);
        if (request.path == QLatin1String("/later")) {
            QPointer<HttpConnection> target(connection);
            const int ms = request.query.queryItemValue("ms").toInt();
            QTimer::singleShot(ms, [this, target, request] {
                if (!target) {
                    ++deferredDropped;
                    return;
                }
                ++deferredAnswered;
                target->respond(echo(request));
            });
            return;
        }
        connection->respond(echo(request));
    }
};

struct RawResponse
{
    int status = 0;
    QByteArray statusLine;
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;

    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

// A client that writes exactly the bytes it is given and parses what comes back.
class RawClient
{
public:
    explicit RawClient(quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] { in += socket.readAll(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, [this] { closed = true; });
        socket.connectToHost(QHostAddress::LocalHost, port);
        socket.waitForConnected(5000); // the kernel completes it; the server accepts later
    }
    bool waitConnected() { return socket.waitForConnected(5000); }
    void send(const QByteArray &bytes)
    {
        socket.write(bytes);
        socket.flush();
    }
    // Complete responses received so far, interim ones (1xx) included.
    QList<RawResponse> responses() const
    {
        QList<RawResponse> out;
        qsizetype pos = 0;
        for (;;) {
            const qsizetype end = in.indexOf("\r\n\r\n", pos);
            if (end < 0)
                break;
            RawResponse r;
            const QList<QByteArray> lines = in.mid(pos, end - pos).split('\n');
            r.statusLine = lines.first().trimmed();
            r.status = r.statusLine.split(' ').value(1).toInt();
            for (int i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                r.headers.insert(lines[i].left(colon).trimmed().toLower(),
                                 lines[i].mid(colon + 1).trimmed());
            }
            const qsizetype length = r.headers.value("content-length").toLongLong();
            if (in.size() < end + 4 + length)
                break;
            r.body = in.mid(end + 4, length);
            pos = end + 4 + length;
            out.append(r);
        }
        return out;
    }
    // Final (non-1xx) responses.
    QList<RawResponse> finals() const
    {
        QList<RawResponse> out;
        for (const RawResponse &r : responses()) {
            if (r.status >= 200)
                out.append(r);
        }
        return out;
    }

    QTcpSocket socket;
    QByteArray in;
    bool closed = false;
};

QByteArray get(const QByteArray &path, const QByteArray &extra = QByteArray())
{
    return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

} // namespace

class tst_HttpServer : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<EchoHandler> m_handler;
    std::unique_ptr<HttpServer> m_server;

    static HttpLimits testLimits()
    {
        HttpLimits l;
        l.maxBodyBytes = 1000;
        l.maxHeaderBytes = 1024;
        l.maxHeaderCount = 10;
        l.idleTimeoutMs = 30000;
        l.requestTimeoutMs = 30000;
        l.maxConnections = 16;
        return l;
    }
    quint16 port() const { return m_server->serverPort(); }
    qint64 rejected(const char *reason) const
    {
        return m_server->rejectedByReason().value(QLatin1String(reason));
    }

private slots:
    void init()
    {
        m_handler = std::make_unique<EchoHandler>();
        m_server = std::make_unique<HttpServer>(m_handler.get());
        m_server->setLimits(testLimits());
        const Status s = m_server->start(QHostAddress::LocalHost, 0);
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QVERIFY(port() > 0);
    }
    void cleanup()
    {
        m_server.reset();
        m_handler.reset();
    }

    void listeningAddressAndBindFailure()
    {
        QCOMPARE(m_server->listeningAddress(), QStringLiteral("127.0.0.1:%1").arg(port()));
        EchoHandler h;
        HttpServer second(&h);
        const Status s = second.start(QHostAddress::LocalHost, port());
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QStringLiteral("listen_failed"));
        QVERIFY2(s.error().message.contains(QStringLiteral("127.0.0.1:%1").arg(port())),
                 qPrintable(s.error().message));
        QVERIFY(s.error().message.contains("address in use"));
        QVERIFY(second.listeningAddress().isEmpty());
    }

    void echoesARequest()
    {
        RawClient c(port());
        c.send("POST /a%20b/c?x=1&y=two HTTP/1.1\r\nHost: test\r\nX-Thing:  spaced value  \r\n"
               "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 5000);
        const RawResponse r = c.finals().first();
        QCOMPARE(r.status, 200);
        QCOMPARE(r.statusLine, QByteArray("HTTP/1.1 200 OK"));
        QCOMPARE(r.headers.value("content-type"), QByteArray("application/json"));
        const QJsonObject o = r.json();
        QCOMPARE(o.value("method").toString(), QStringLiteral("POST"));
        QCOMPARE(o.value("path").toString(), QStringLiteral("/a b/c"));
        QCOMPARE(o.value("target").toString(), QStringLiteral("/a%20b/c?x=1&y=two"));
        QCOMPARE(o.value("body").toString(), QStringLiteral("{\"a\":1}"));
        QCOMPARE(o.value("headers").toObject().value("x-thing").toString(),
                 QStringLiteral("spaced value"));
        QCOMPARE(m_handler->seen.first().query.queryItemValue("y"), QStringLiteral("two"));
        QVERIFY(m_handler->seen.first().peerIsLoopback());
        QVERIFY(m_handler->seen.first().receivedAtMs > 0);
        QVERIFY(!c.closed); // keep-alive
        QVERIFY(m_server->rejectedByReason().isEmpty());
    }

    void headAnswersWithoutABody()
    {
        RawClient c(port());
        c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get("/after"));
        // The HEAD answer announces a length but carries no body, so the next answer follows.
        QTRY_VERIFY_WITH_TIMEOUT(c.in.contains("\"/after\""), 5000);
        QVERIFY(c.in.startsWith("HTTP/1.1 200 OK\r\n"));
        const qsizetype second = c.in.indexOf("HTTP/1.1 200", 10);
        QVERIFY(second > 0);
        QCOMPARE(c.in.indexOf("\r\n\r\n") + 4, second);
    }

    void hostileRequests_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");     // 0: the connection is closed without an answer
        QTest::addColumn<QString>("reason"); // rejectedByReason() key, or empty

        const QByteArray h = "Host: test\r\n";
        QByteArray manyHeaders = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 11; ++i)
            manyHeaders += "X-H" + QByteArray::number(i) + ": v\r\n";
        manyHeaders += "\r\n";

        // Controls: what a well-behaved client gets.
        QTest::newRow("control GET") << get("/") << 200 << "";
        QTest::newRow("control POST")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\nhello") << 200
            << "";
        QTest::newRow("control chunked")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\n\r\n")
            << 200 << "";
        QTest::newRow("control leading blank line") << "\r\n" + get("/") << 200 << "";

        // The request line.
        QTest::newRow("garbage request line")
            << QByteArray("GARBAGE\r\n\r\n") << 400 << "malformed_request";
        QTest::newRow("bad method token")
            << QByteArray("GE(T / HTTP/1.1\r\n" + h + "\r\n") << 400 << "malformed_request";
        QTest::newRow("missing version")
            << QByteArray("GET /\r\n" + h + "\r\n") << 400 << "malformed_request";
        QTest::newRow("double space")
            << QByteArray("GET  / HTTP/1.1\r\n" + h + "\r\n") << 400 << "malformed_request";
        QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\n" + h + "\r\n") << 505
                                  << "malformed_request";
        QTest::newRow("not HTTP") << QByteArray("GET / FTP/1.1\r\n" + h + "\r\n") << 400
                                  << "malformed_request";
        QTest::newRow("lower-case version")
            << QByteArray("GET / http/1.1\r\n" + h + "\r\n") << 400 << "malformed_request";
        QTest::newRow("target without slash")
            << QByteArray("GET index.html HTTP/1.1\r\n" + h + "\r\n") << 400 << "malformed_request";
        QTest::newRow("bad percent escape")
            << QByteArray("GET /%zz HTTP/1.1\r\n" + h + "\r\n") << 400 << "malformed_request";

        // Header fields.
        QTest::newRow("header without colon")
            << QByteArray("GET / HTTP/1.1\r\n" + h + "NoColonHere\r\n\r\n") << 400
            << "malformed_request";
        QTest::newRow("obs-fold") << QByteArray("GET / HTTP/1.1\r\n" + h +
                                                "X-A: one\r\n  folded\r\n\r\n")
                                  << 400 << "malformed_request";
        QTest::newRow("space in header name")
            << QByteArray("GET / HTTP/1.1\r\n" + h + "Bad Name: x\r\n\r\n") << 400
            << "malformed_request";
        QTest::newRow("space before colon")
            << QByteArray("GET / HTTP/1.1\r\n" + h + "X-A : x\r\n\r\n") << 400
            << "malformed_request";
        QTest::newRow("empty header name")
            << QByteArray("GET / HTTP/1.1\r\n" + h + ": x\r\n\r\n") << 400 << "malformed_request";
        QTest::newRow("NUL in header value")
            << QByteArray("GET / HTTP/1.1\r\n" + h + QByteArray("X-A: a\0b\r\n\r\n", 12)) << 400
            << "malformed_request";
        QTest::newRow("bare CR in header value")
            << QByteArray("GET / HTTP/1.1\r\n" + h + "X-A: a\rb\r\n\r\n") << 400
            << "malformed_request";
        QTest::newRow("too many headers") << manyHeaders << 431 << "headers_too_large";
        QTest::newRow("header block over the limit")
            << QByteArray("GET / HTTP/1.1\r\n" + h + "X-Big: " + QByteArray(1100, 'a') + "\r\n\r\n")
            << 431 << "headers_too_large";
        QTest::newRow("unterminated header block over the limit")
            << QByteArray("GET / HTTP/1.1\r\n" + h + "X-Big: " + QByteArray(1100, 'a')) << 431
            << "headers_too_large";

        // Framing of the body.
        QTest::newRow("Content-Length not a number")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Content-Length: five\r\n\r\nhello") << 400
            << "malformed_request";
        QTest::newRow("Content-Length negative")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Content-Length: -5\r\n\r\nhello") << 400
            << "malformed_request";
        QTest::newRow("Content-Length with plus")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Content-Length: +5\r\n\r\nhello") << 400
            << "malformed_request";
        QTest::newRow("Content-Length overflows")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Content-Length: 99999999999999999999999\r\n\r\n")
            << 400 << "malformed_request";
        QTest::newRow("conflicting Content-Lengths")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
            << 400 << "malformed_request";
        QTest::newRow("Content-Length and Transfer-Encoding")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            << 400 << "malformed_request";
        QTest::newRow("unknown Transfer-Encoding")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n") << 501
            << "malformed_request";
        QTest::newRow("gzip then chunked")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n")
            << 501 << "malformed_request";
        QTest::newRow("second Transfer-Encoding header")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
                          "5\r\nhello\r\n0\r\n\r\n")
            << 501 << "malformed_request";
        QTest::newRow("body over the limit by Content-Length")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Content-Length: 5000\r\n\r\n") << 413
            << "body_too_large";
        QTest::newRow("chunk over the limit")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n7d0\r\n")
            << 413 << "body_too_large";
        QTest::newRow("chunks add up over the limit")
            << QByteArray("POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1f4\r\n" +
                          QByteArray(500, 'a') + "\r\n1f4\r\n" + QByteArray(500, 'b') + "\r\n1\r\n")
            << 413 << "body_too_large";
        QTest::newRow("bad chunk size")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
            << 400 << "malformed_request";
        QTest::newRow("negative chunk size")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n")
            << 400 << "malformed_request";
        QTest::newRow("chunk size with 0x prefix")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n")
            << 400 << "malformed_request";
        QTest::newRow("chunk size with plus")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n")
            << 400 << "malformed_request";
        QTest::newRow("chunk data not followed by CRLF")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n")
            << 400 << "malformed_request";
        QTest::newRow("unknown Expect")
            << QByteArray("POST / HTTP/1.1\r\n" + h +
                          "Expect: something-else\r\nContent-Length: 5\r\n\r\nhello")
            << 417 << "malformed_request";
    }
    void hostileRequests()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QString, reason);
        RawClient c(port());
        QVERIFY(c.waitConnected());
        c.send(request);
        if (status == 0) {
            QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
            QVERIFY(c.finals().isEmpty());
            return;
        }
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 5000);
        const RawResponse r = c.finals().first();
        QCOMPARE(r.status, status);
        if (status >= 400) {
            // The one error shape, then the connection is closed.
            const QJsonObject error = r.json().value("error").toObject();
            QVERIFY2(!error.value("code").toString().isEmpty(), r.body.constData());
            QVERIFY(!error.value("message").toString().isEmpty());
            QCOMPARE(r.headers.value("connection"), QByteArray("close"));
            QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
            QVERIFY(m_handler->seen.isEmpty());
        } else {
            QCOMPARE(m_handler->seen.size(), 1);
            QVERIFY(!c.closed);
        }
        if (reason.isEmpty()) {
            QVERIFY(m_server->rejectedByReason().isEmpty());
        } else {
            QCOMPARE(m_server->rejectedByReason().value(reason), qint64(1));
            QCOMPARE(m_server->rejectedByReason().size(), 1);
        }
    }

    void chunkedBodyIsReassembled()
    {
        RawClient c(port());
        c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3\r\nabc\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(m_handler->seen.size(), 0, 100);
        c.send("A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 5000);
        QCOMPARE(c.finals().first().json().value("body").toString(),
                 QStringLiteral("abc0123456789"));
    }

    void expectContinueGetsAnInterimAnswerBeforeTheBody()
    {
        RawClient c(port());
        c.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(c.responses().size(), 1, 5000);
        QCOMPARE(c.in, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
        QVERIFY(m_handler->seen.isEmpty());
        c.send("hello");
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 5000);
        QCOMPARE(c.finals().first().status, 200);
        QCOMPARE(c.finals().first().json().value("body").toString(), QStringLiteral("hello"));
    }

    void expectContinueOverTheLimitGets413Instead()
    {
        RawClient c(port());
        c.send(
            "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(c.responses().size(), 1, 5000);
        QCOMPARE(c.responses().first().status, 413);
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
    }

    void expectContinueNotSentWhenTheBodyCameAlong()
    {
        RawClient c(port());
        c.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
               "hello");
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 5000);
        QCOMPARE(c.responses().size(), 1);
        QCOMPARE(c.responses().first().status, 200);
    }

    void slowClientGets408()
    {
        HttpLimits l = testLimits();
        l.requestTimeoutMs = 300;
        m_server->setLimits(l);
        RawClient c(port());
        c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Len");
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QCOMPARE(c.finals().size(), 1);
        QCOMPARE(c.finals().first().status, 408);
        QCOMPARE(c.finals().first().json().value("error").toObject().value("code").toString(),
                 QStringLiteral("request_timeout"));
        QCOMPARE(rejected("slow_client"), qint64(1));
        QVERIFY(m_handler->seen.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0, 5000);
    }

    void slowBodyGets408()
    {
        HttpLimits l = testLimits();
        l.requestTimeoutMs = 300;
        m_server->setLimits(l);
        RawClient c(port());
        c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf");
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QCOMPARE(c.finals().value(0).status, 408);
        QCOMPARE(rejected("slow_client"), qint64(1));
    }

    void idleKeepAliveConnectionIsClosed()
    {
        HttpLimits l = testLimits();
        l.idleTimeoutMs = 300;
        l.requestTimeoutMs = 5000;
        m_server->setLimits(l);
        RawClient c(port());
        c.send(get("/one"));
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 5000);
        QVERIFY(!c.closed);
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0, 5000);
        // Idle is not a refused request.
        QVERIFY(m_server->rejectedByReason().isEmpty());

        RawClient silent(port());
        QVERIFY(silent.waitConnected());
        QTRY_VERIFY_WITH_TIMEOUT(silent.closed, 5000);
        QVERIFY(silent.in.isEmpty());
    }

    void pipelinedRequestsAnsweredInOrder()
    {
        RawClient c(port());
        c.send(get("/1") + "POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" +
               get("/3"));
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 3, 5000);
        QStringList paths;
        for (const RawResponse &r : c.finals())
            paths.append(r.json().value("path").toString());
        QCOMPARE(paths, QStringList({"/1", "/2", "/3"}));
        QCOMPARE(c.finals().at(1).json().value("body").toString(), QStringLiteral("abc"));
        QVERIFY(!c.closed);
    }

    void deferredAnswerKeepsPipelineOrder()
    {
        RawClient c(port());
        c.send(get("/later?ms=150") + get("/now"));
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 2, 5000);
        QCOMPARE(c.finals().at(0).json().value("path").toString(), QStringLiteral("/later"));
        QCOMPARE(c.finals().at(1).json().value("path").toString(), QStringLiteral("/now"));
        QCOMPARE(m_handler->deferredAnswered, 1);
        // The second request reached the handler only after the first was answered.
        QCOMPARE(m_handler->seen.size(), 2);
    }

    void clientGoneBeforeDeferredAnswer()
    {
        {
            RawClient c(port());
            c.send(get("/later?ms=200"));
            QTRY_COMPARE_WITH_TIMEOUT(m_handler->seen.size(), 1, 5000);
            c.socket.abort();
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_handler->deferredDropped, 1, 5000);
        QCOMPARE(m_handler->deferredAnswered, 0);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0, 5000);
        // The server still works.
        RawClient next(port());
        next.send(get("/"));
        QTRY_COMPARE_WITH_TIMEOUT(next.finals().size(), 1, 5000);
    }

    void pipelinedBytesDuringADeferredAnswerAreBounded()
    {
        RawClient c(port());
        c.send(get("/later?ms=100"));
        QTRY_COMPARE_WITH_TIMEOUT(m_handler->seen.size(), 1, 5000);
        const QList<QTcpSocket *> sockets = m_server->findChildren<QTcpSocket *>();
        QCOMPARE(sockets.size(), 1);
        // Qt's own buffer is unbounded by default: a client could pipe gigabytes meanwhile.
        QVERIFY(sockets.first()->readBufferSize() > 0);
        QVERIFY(sockets.first()->readBufferSize() <= 1024 * 1024);
        c.send(QByteArray(4 * 1024 * 1024, 'x')); // then junk: the next "head" is too large
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 10000);
        QCOMPARE(c.finals().size(), 2);
        QCOMPARE(c.finals().at(0).status, 200);
        QCOMPARE(c.finals().at(1).status, 431);
    }

    void largeBodiesStillFlowThroughTheBoundedBuffer()
    {
        HttpLimits l = testLimits();
        l.maxBodyBytes = 3 * 1024 * 1024;
        m_server->setLimits(l);
        const QByteArray body(2 * 1024 * 1024 + 7, 'b');
        RawClient c(port());
        c.send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: " +
               QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 10000);
        QCOMPARE(c.finals().first().status, 200);
        QCOMPARE(m_handler->seen.first().body.size(), body.size());
    }

    void connectionCloseIsHonoured()
    {
        RawClient c(port());
        c.send(get("/1", "Connection: close\r\n") + get("/2"));
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QCOMPARE(c.finals().size(), 1);
        QCOMPARE(c.finals().first().headers.value("connection"), QByteArray("close"));
        QCOMPARE(m_handler->seen.size(), 1);
    }

    void http10ClosesAfterTheAnswer()
    {
        RawClient c(port());
        c.send("GET /old HTTP/1.0\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QCOMPARE(c.finals().size(), 1);
        QCOMPARE(c.finals().first().status, 200);
        QCOMPARE(c.finals().first().json().value("version").toString(), QStringLiteral("HTTP/1.0"));
    }

    void http10KeepAliveIsAnnounced()
    {
        RawClient c(port());
        c.send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(c.finals().size(), 1, 5000);
        // An HTTP/1.0 client only keeps the connection when the answer says so.
        QCOMPARE(c.finals().first().headers.value("connection").toLower(),
                 QByteArray("keep-alive"));
        c.send("GET /2 HTTP/1.0\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QCOMPARE(c.finals().size(), 2);
    }

    void tooManyConnectionsGet503()
    {
        HttpLimits l = testLimits();
        l.maxConnections = 2;
        m_server->setLimits(l);
        RawClient a(port()), b(port());
        QVERIFY(a.waitConnected());
        QVERIFY(b.waitConnected());
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 2, 5000);
        RawClient third(port());
        QTRY_VERIFY_WITH_TIMEOUT(third.closed, 5000);
        QCOMPARE(third.finals().size(), 1);
        const RawResponse r = third.finals().first();
        QCOMPARE(r.status, 503);
        QCOMPARE(r.headers.value("retry-after"), QByteArray("1"));
        QCOMPARE(r.json().value("error").toObject().value("code").toString(),
                 QStringLiteral("too_many_connections"));
        QCOMPARE(rejected("too_many_connections"), qint64(1));
        QCOMPARE(m_server->connectionCount(), 2);

        // Both admitted connections still work; once one leaves there is room again.
        a.send(get("/a"));
        QTRY_COMPARE_WITH_TIMEOUT(a.finals().size(), 1, 5000);
        b.socket.disconnectFromHost();
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 1, 5000);
        RawClient fourth(port());
        fourth.send(get("/d"));
        QTRY_COMPARE_WITH_TIMEOUT(fourth.finals().size(), 1, 5000);
        QCOMPARE(fourth.finals().first().status, 200);
    }

    void rejectedSignalCarriesTheReason()
    {
        QSignalSpy spy(m_server.get(), &HttpServer::requestRejected);
        RawClient c(port());
        c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
        QVERIFY(spy.wait(5000));
        QCOMPARE(spy.first().first().toString(), QStringLiteral("body_too_large"));
        RawClient d(port());
        d.send("NOPE\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(spy.size(), 2, 5000);
        QCOMPARE(rejected("body_too_large"), qint64(1));
        QCOMPARE(rejected("malformed_request"), qint64(1));
    }

    void throughQNetworkAccessManager_data()
    {
        QTest::addColumn<QByteArray>("verb");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::newRow("GET") << QByteArray("GET") << QByteArray() << 200;
        QTest::newRow("POST json") << QByteArray("POST") << QByteArray("{\"id\":\"p1\"}") << 200;
        QTest::newRow("PUT") << QByteArray("PUT") << QByteArray("x") << 200;
        QTest::newRow("status 404") << QByteArray("GET") << QByteArray() << 404;
        QTest::newRow("POST at the limit") << QByteArray("POST") << QByteArray(1000, 'z') << 200;
    }
    void throughQNetworkAccessManager()
    {
        QFETCH(QByteArray, verb);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QNetworkAccessManager nam;
        QNetworkRequest req(
            QUrl(QStringLiteral("http://127.0.0.1:%1/nam/path?status=%2").arg(port()).arg(status)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
        req.setRawHeader("X-Custom", "yes");
        for (int round = 0; round < 3; ++round) { // keep-alive reuse on one connection
            std::unique_ptr<QNetworkReply> reply(nam.sendCustomRequest(req, verb, body));
            QSignalSpy finished(reply.get(), &QNetworkReply::finished);
            QVERIFY(finished.wait(5000));
            QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), status);
            const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
            QCOMPARE(o.value("method").toString(), QString::fromLatin1(verb));
            QCOMPARE(o.value("path").toString(), QStringLiteral("/nam/path"));
            QCOMPARE(o.value("body").toString(), QString::fromLatin1(body));
            QCOMPARE(o.value("headers").toObject().value("x-custom").toString(),
                     QStringLiteral("yes"));
        }
        QCOMPARE(m_handler->seen.size(), 3);
        QVERIFY(m_server->rejectedByReason().isEmpty());
    }

    void bodyOverTheLimitThroughQNetworkAccessManager()
    {
        QNetworkAccessManager nam;
        QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port())));
        req.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
        std::unique_ptr<QNetworkReply> reply(nam.post(req, QByteArray(5000, 'x')));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        QVERIFY(finished.wait(5000));
        QCOMPARE(rejected("body_too_large"), qint64(1));
        QVERIFY(m_handler->seen.isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_HttpServer)
#include "tst_httpserver.moc"
