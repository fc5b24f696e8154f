// The request and response values route handlers see: header lookup, peer checks, the JSON and
// error shapes of the API, reason phrases.

#include "httpmessage.h"

#include <QJsonDocument>
#include <QTest>

namespace {
QByteArray headerValue(const HttpResponse &r, const QByteArray &name)
{
    for (const auto &h : r.headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return QByteArray();
}
} // namespace

class tst_HttpMessage : public QObject
{
    Q_OBJECT
private slots:
    void headerLookup_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("exact") << QByteArray("Content-Type") << QByteArray("application/json");
        QTest::newRow("lower case") << QByteArray("content-type") << QByteArray("application/json");
        QTest::newRow("upper case") << QByteArray("CONTENT-TYPE") << QByteArray("application/json");
        QTest::newRow("first of repeated") << QByteArray("x-multi") << QByteArray("one");
        QTest::newRow("missing") << QByteArray("Authorization") << QByteArray();
        QTest::newRow("prefix is not a match") << QByteArray("Content") << QByteArray();
        QTest::newRow("empty value") << QByteArray("X-Empty") << QByteArray();
    }
    void headerLookup()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, value);
        HttpRequest r;
        r.headers = {{"Content-Type", "application/json"},
                     {"X-Multi", "one"},
                     {"x-multi", "two"},
                     {"X-Empty", ""}};
        QCOMPARE(r.header(name), value);
    }

    void peerIsLoopback_data()
    {
        QTest::addColumn<QString>("address");
        QTest::addColumn<bool>("loopback");
        QTest::newRow("127.0.0.1") << "127.0.0.1" << true;
        QTest::newRow("127.1.2.3") << "127.1.2.3" << true;
        QTest::newRow("::1") << "::1" << true;
        QTest::newRow("IPv4-mapped loopback (dual-stack socket)") << "::ffff:127.0.0.1" << true;
        QTest::newRow("LAN") << "192.168.1.10" << false;
        QTest::newRow("IPv6 global") << "2001:db8::1" << false;
        QTest::newRow("any") << "0.0.0.0" << false;
        QTest::newRow("IPv4-mapped LAN") << "::ffff:10.0.0.1" << false;
        QTest::newRow("unset") << "" << false;
    }
    void peerIsLoopback()
    {
        QFETCH(QString, address);
        QFETCH(bool, loopback);
        HttpRequest r;
        r.peer = QHostAddress(address);
        QCOMPARE(r.peerIsLoopback(), loopback);
    }

    void jsonResponse()
    {
        const HttpResponse r = HttpResponse::json(202, QJsonObject{{"status", "queued"}, {"n", 1}});
        QCOMPARE(r.status, 202);
        QCOMPARE(headerValue(r, "Content-Type"), QByteArray("application/json"));
        QCOMPARE(r.body, QByteArray("{\"n\":1,\"status\":\"queued\"}\n"));
    }

    void errorShape_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("400") << 400 << "bad_json"
                             << "the body is not valid JSON";
        QTest::newRow("401") << 401 << "bad_signature"
                             << "X-Hub-Signature-256 does not match";
        QTest::newRow("quotes and unicode")
            << 409 << "conflict" << QString::fromUtf8("patch id \"p\" was already delivered — ✓");
    }
    void errorShape()
    {
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(QString, message);
        const HttpResponse r = HttpResponse::error(status, code, message);
        QCOMPARE(r.status, status);
        QCOMPARE(headerValue(r, "Content-Type"), QByteArray("application/json"));
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(r.body, &pe);
        QCOMPARE(pe.error, QJsonParseError::NoError);
        QCOMPARE(doc.object().keys(), QStringList{"error"});
        const QJsonObject err = doc.object().value("error").toObject();
        QCOMPARE(err.keys(), (QStringList{"code", "message"}));
        QCOMPARE(err.value("code").toString(), code);
        QCOMPARE(err.value("message").toString(), message);
    }

    void textResponseKeepsBytes()
    {
        const QByteArray body("# HELP x\nx 1\n\0binary", 20);
        const HttpResponse r = HttpResponse::text(200, body, "text/plain; version=0.0.4");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, body);
        QCOMPARE(headerValue(r, "Content-Type"), QByteArray("text/plain; version=0.0.4"));
        QCOMPARE(r.headers.size(), 1);
    }

    void withHeaderAppendsAndChains()
    {
        HttpResponse r = HttpResponse::error(429, "queue_full", "retry later");
        HttpResponse &same = r.withHeader("Retry-After", "1").withHeader("Set-Cookie", "a=1");
        QCOMPARE(&same, &r);
        r.withHeader("Set-Cookie", "b=2"); // repeated fields stay separate
        QCOMPARE(r.headers.size(), 4);
        QCOMPARE(r.headers[1], qMakePair(QByteArray("Retry-After"), QByteArray("1")));
        QCOMPARE(r.headers[3], qMakePair(QByteArray("Set-Cookie"), QByteArray("b=2")));
        // A temporary can be decorated in one expression, as the routes do.
        const HttpResponse t =
            HttpResponse::error(401, "x", "y").withHeader("WWW-Authenticate", "Bearer");
        QCOMPARE(headerValue(t, "WWW-Authenticate"), QByteArray("Bearer"));
    }

    void reasonPhrases_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("phrase");
        const QList<QPair<int, QByteArray>> table = {
            {100, "Continue"},
            {200, "OK"},
            {202, "Accepted"},
            {204, "No Content"},
            {400, "Bad Request"},
            {401, "Unauthorized"},
            {403, "Forbidden"},
            {404, "Not Found"},
            {405, "Method Not Allowed"},
            {408, "Request Timeout"},
            {409, "Conflict"},
            {411, "Length Required"},
            {413, "Content Too Large"},
            {415, "Unsupported Media Type"},
            {417, "Expectation Failed"},
            {422, "Unprocessable Content"},
            {429, "Too Many Requests"},
            {431, "Request Header Fields Too Large"},
            {500, "Internal Server Error"},
            {501, "Not Implemented"},
            {502, "Bad Gateway"},
            {503, "Service Unavailable"},
            {505, "HTTP Version Not Supported"},
            {0, "Status"},
            {999, "Status"},
        };
        for (const auto &row : table)
            QTest::addRow("%d", row.first) << row.first << row.second;
    }
    void reasonPhrases()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, phrase);
        QCOMPARE(HttpResponse::reasonPhrase(status), phrase);
    }

    void everyStatusTheApiAnswersHasItsOwnPhrase()
    {
        // SPEC.md's answers: none may go out as the generic "Status".
        for (int s : {200, 202, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 503})
            QVERIFY2(HttpResponse::reasonPhrase(s) != "Status", QByteArray::number(s).constData());
    }
};

QTEST_GUILESS_MAIN(tst_HttpMessage)
#include "tst_httpmessage.moc"
