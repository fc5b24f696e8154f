// SIGHUP as an operator uses it (`systemctl reload`): the daemon re-reads its INI file and its
// secret; a valid change applies to the next request without dropping a keep-alive connection
// opened before, and a broken file is refused, named in the log with its key, while the old
// configuration keeps serving.

#include "daemonprocess.h"
#include "testsupport.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>

namespace {

// One HTTP/1.1 connection kept open across requests, so the test knows it is the same socket.
class KeepAliveConnection
{
public:
    bool open(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        return m_socket.waitForConnected(5000);
    }
    bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }

    HttpReply request(const QByteArray &method, const QByteArray &target,
                      const QByteArray &body = {},
                      const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        QByteArray head = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        for (const auto &h : headers)
            head += h.first + ": " + h.second + "\r\n";
        if (!body.isEmpty() || method == "POST")
            head += "Content-Type: application/json\r\nContent-Length: " +
                    QByteArray::number(body.size()) + "\r\n";
        m_socket.write(head + "\r\n" + body);
        HttpReply reply;
        QDeadlineTimer deadline(15000);
        qsizetype headEnd = -1;
        qsizetype length = -1;
        while (!deadline.hasExpired()) {
            if (headEnd < 0 && (headEnd = m_buffer.indexOf("\r\n\r\n")) >= 0) {
                const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
                reply.status = lines[0].split(' ').value(1).toInt();
                for (const QByteArray &l : lines.mid(1)) {
                    const qsizetype colon = l.indexOf(':');
                    reply.headers.append({l.left(colon).trimmed(), l.mid(colon + 1).trimmed()});
                }
                length = reply.header("Content-Length").toLongLong();
            }
            if (headEnd >= 0 && m_buffer.size() >= headEnd + 4 + length) {
                reply.body = m_buffer.mid(headEnd + 4, length);
                reply.json = QJsonDocument::fromJson(reply.body).object();
                m_buffer.remove(0, headEnd + 4 + length);
                return reply;
            }
            if (!m_socket.waitForReadyRead(int(deadline.remainingTime())))
                break;
            m_buffer += m_socket.readAll();
        }
        return HttpReply{};
    }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

QList<QPair<QByteArray, QByteArray>> bearer(const QByteArray &secret)
{
    return {{"Authorization", "Bearer " + secret}};
}

// Writes `path` with `contents`: applied, it proves the patch went through.
QByteArray writePatch(const QString &id, const QString &path, const QByteArray &contents)
{
    return QJsonDocument(
               QJsonObject{{"id", id},
                           {"mutations", QJsonArray{QJsonObject{{"path", path},
                                                                {"contents", QString(contents)}}}}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class tst_Reload : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.path() + "/ws"; }
    QString configPath() const { return m_dir.path() + "/ghost-runner.ini"; }

    // The instance's file: the port stays 0 across reloads (a changed port would rebind).
    void writeConfig(const QByteArray &server, const QByteArray &secretFile,
                     const QByteArray &extra = {})
    {
        TestSupport::writeTree(
            m_dir.path(),
            {{"ghost-runner.ini", "; reloaded on SIGHUP\n[server]\nport = 0\n" + server +
                                      "\n[paths]\nworkspace = ws\n"
                                      "state_dir = state\n[auth]\nsecret_file = " +
                                      secretFile + "\n" + extra}});
    }

    static int occurrences(const QByteArray &text, const QByteArray &what)
    {
        return int(text.count(what));
    }

    // 3000 bytes of JSON: under the first limit, over the reloaded one.
    static QByteArray largePatch(const QString &id)
    {
        return writePatch(id, "large.txt", QByteArray(3000, 'x'));
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QDir(m_dir.path()).removeRecursively();
        QVERIFY(QDir().mkpath(ws()));
        TestSupport::writeTree(m_dir.path(),
                               {{"alpha.secret", "alpha\n"}, {"beta.secret", "beta\n"}});
    }

    void reloadAppliesToTheNextRequest()
    {
        writeConfig("max_body_bytes = 1048576", "alpha.secret");
        DaemonProcess d;
        QVERIFY2(d.start({"--config", configPath()}), d.stderrText().constData());
        KeepAliveConnection kept;
        QVERIFY(kept.open(d.port()));
        QCOMPARE(kept.request("GET", "/health").status, 200);
        QCOMPARE(kept.request("POST", "/webhook?wait=10", writePatch("before", "a.txt", "1\n"),
                              bearer("alpha"))
                     .status,
                 200);
        QCOMPARE(httpPostJson(d.baseUrl() + "/webhook?wait=10", largePatch("large-before"),
                              bearer("alpha"))
                     .status,
                 200);

        // Another secret, a smaller body limit, and a key this version does not know.
        writeConfig("max_body_bytes = 2048\nmax_bodybytes = 1", "beta.secret");
        ::kill(pid_t(d.pid()), SIGHUP);
        QTRY_VERIFY_WITH_TIMEOUT(d.stderrText().contains("configuration reloaded"), 10000);
        QVERIFY2(d.stderrText().contains("SIGHUP: " + configPath().toUtf8() +
                                         ": unknown key \"server.max_bodybytes\" ignored"),
                 d.stderrText().constData());

        // The connection opened before the reload still works, with the new secret.
        QVERIFY(kept.isOpen());
        const HttpReply old = kept.request(
            "POST", "/webhook?wait=10", writePatch("old-secret", "b.txt", "2\n"), bearer("alpha"));
        QCOMPARE(old.status, 401);
        QCOMPARE(old.json["error"]["code"].toString(), QString("bad_token"));
        QVERIFY(kept.isOpen());
        const HttpReply fresh = kept.request(
            "POST", "/webhook?wait=10", writePatch("new-secret", "c.txt", "3\n"), bearer("beta"));
        QCOMPARE(fresh.status, 200);
        QCOMPARE(fresh.json["status"].toString(), QString("applied"));
        QCOMPARE(kept.request("GET", "/health").status, 200);
        QVERIFY(kept.isOpen());
        // The body limit too: on a new connection, and on the next request of the open one.
        KeepAliveConnection opened;
        QVERIFY(opened.open(d.port()));
        for (KeepAliveConnection *c : {&opened, &kept}) {
            const HttpReply large =
                c->request("POST", "/webhook?wait=10", largePatch("large-after"), bearer("beta"));
            QCOMPARE(large.status, 413);
            QCOMPARE(large.json["error"]["code"].toString(), QString("body_too_large"));
        }
        QCOMPARE(TestSupport::readTree(ws()),
                 (QMap<QString, QByteArray>{
                     {"a.txt", "1\n"}, {"c.txt", "3\n"}, {"large.txt", QByteArray(3000, 'x')}}));
        QCOMPARE(d.terminate(), 0);
    }

    void refusedReloadKeepsTheOldConfiguration_data()
    {
        QTest::addColumn<QByteArray>("server");
        QTest::addColumn<QByteArray>("secretFile");
        QTest::addColumn<QString>("logged"); // FILE stands for the configuration file's path
        // Each broken file also changes the secret and the body limit: neither may apply.
        QTest::newRow("invalid value")
            << QByteArray("max_body_bytes = 2048\nmax_wait_s = soon") << QByteArray("beta.secret")
            << "the new configuration is invalid, keeping the old one: FILE: server.max_wait_s: "
               "\"soon\" is not a whole number";
        QTest::newRow("line without =")
            << QByteArray("max_body_bytes = 2048\nmax_wait_s 5") << QByteArray("beta.secret")
            << "the new configuration is invalid, keeping the old one: FILE: not a valid INI "
               "file: line 5 (\"max_wait_s 5\") is neither [section] nor key = value";
        QTest::newRow("unclosed section")
            << QByteArray("max_body_bytes = 2048\n[executor") << QByteArray("beta.secret")
            << "the new configuration is invalid, keeping the old one: FILE: not a valid INI "
               "file: line 5 (\"[executor\")";
        QTest::newRow("missing secret file")
            << QByteArray("max_body_bytes = 2048") << QByteArray("gamma.secret")
            << "the new configuration is invalid, keeping the old one: " + m_dir.path() +
                   "/gamma.secret: cannot read the secret file";
        QTest::newRow("role needs a restart")
            << QByteArray("max_body_bytes = 2048\nrole = runner") << QByteArray("beta.secret")
            << "reload refused, keeping the old configuration: server.role changed "
               "(all-in-one -> runner); that needs a restart";
    }
    void refusedReloadKeepsTheOldConfiguration()
    {
        QFETCH(QByteArray, server);
        QFETCH(QByteArray, secretFile);
        QFETCH(QString, logged);
        writeConfig("max_body_bytes = 1048576", "alpha.secret");
        DaemonProcess d;
        QVERIFY2(d.start({"--config", configPath()}), d.stderrText().constData());
        KeepAliveConnection kept;
        QVERIFY(kept.open(d.port()));
        QCOMPARE(kept.request("GET", "/health").status, 200);

        writeConfig(server, secretFile);
        ::kill(pid_t(d.pid()), SIGHUP);
        const QByteArray expected = "SIGHUP: " + logged.replace("FILE", configPath()).toUtf8();
        QTRY_VERIFY2_WITH_TIMEOUT(
            d.stderrText().contains(expected),
            qPrintable("expected \"" + expected + "\" in:\n" + d.stderrText()), 10000);
        QCOMPARE(occurrences(d.stderrText(), "configuration reloaded"), 0);

        // Still serving, on the old connection and new ones, with the old secret and limit.
        QVERIFY(kept.isOpen());
        QCOMPARE(kept.request("POST", "/webhook?wait=10", writePatch("p", "a.txt", "1\n"),
                              bearer("beta"))
                     .status,
                 401);
        const HttpReply applied = kept.request("POST", "/webhook?wait=10",
                                               writePatch("p", "a.txt", "1\n"), bearer("alpha"));
        QCOMPARE(applied.status, 200);
        QCOMPARE(applied.json["status"].toString(), QString("applied"));
        QCOMPARE(
            httpPostJson(d.baseUrl() + "/webhook?wait=10", largePatch("large"), bearer("alpha"))
                .status,
            200);
        const HttpReply health = httpGet(d.baseUrl() + "/health");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.json["status"].toString(), QString("ok"));
        QCOMPARE(health.json["role"].toString(), QString("all-in-one"));
        QCOMPARE(d.terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_Reload)
#include "tst_reload.moc"
