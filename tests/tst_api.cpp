// The rest of the HTTP API against the real daemon: memory while refusing a 100 MB body,
// /metrics through promtool, /events through curl (and resumed with Last-Event-ID), the
// /deliveries filters and paging, and replay.

#include "daemonprocess.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <memory>
#include <vector>

namespace {
// Anonymous resident memory (heap and stacks): file-backed pages such as shared libraries and
// locale data vary between machines and are not what a buffered body would show up in.
qint64 rssKb(qint64 pid)
{
    const QByteArray status = TestSupport::readFile(QStringLiteral("/proc/%1/status").arg(pid));
    for (const QByteArray &line : status.split('\n')) {
        if (line.startsWith("RssAnon:"))
            return line.mid(8).trimmed().split(' ').first().toLongLong();
    }
    return -1;
}

QByteArray patch(const QString &id, const QString &file = "a.txt", const QString &text = "x")
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"mutations",
                                      QJsonArray{QJsonObject{{"path", file}, {"contents", text}}}}})
        .toJson(QJsonDocument::Compact);
}
} // namespace

class tst_Api : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    DaemonProcess m_daemon;
    QString url(const QString &path) const { return m_daemon.baseUrl() + path; }

private slots:
    void initTestCase()
    {
        QDir().mkpath(m_dir.path() + "/ws");
        QVERIFY(m_daemon.start({"--port", "0", "--workspace", m_dir.path() + "/ws", "--state-dir",
                                m_dir.path() + "/state"}));
    }

    void hundredMegabytesRefusedWithoutGrowing()
    {
        const qint64 before = rssKb(m_daemon.pid());
        QVERIFY(before > 0);
        for (const bool chunked : {false, true}) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, m_daemon.port());
            QVERIFY(s.waitForConnected(5000));
            s.write(chunked
                        ? QByteArray("POST /webhook HTTP/1.1\r\nContent-Type: application/json\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n")
                        : QByteArray("POST /webhook HTTP/1.1\r\nContent-Type: application/json\r\n"
                                     "Content-Length: 104857600\r\n\r\n"));
            const QByteArray chunk(1 << 20, 'a');
            const QByteArray framed = chunked ? "100000\r\n" + chunk + "\r\n" : chunk;
            QByteArray answer;
            for (int i = 0; i < 100 && s.state() == QAbstractSocket::ConnectedState; ++i) {
                s.write(framed);
                s.waitForBytesWritten(2000);
                answer += s.readAll();
            }
            s.waitForReadyRead(2000);
            answer += s.readAll();
            QVERIFY2(answer.startsWith("HTTP/1.1 413"), answer.left(80).constData());
        }
        const qint64 after = rssKb(m_daemon.pid());
        qInfo("daemon RSS %lld kB before, %lld kB after two 100 MB bodies", before, after);
        if (TestSupport::kAddressSanitizer)
            qInfo("memory bound not checked under AddressSanitizer (its quarantine keeps freed "
                  "memory); the native build checks it");
        else
            QVERIFY2(after - before < 20 * 1024, qPrintable(QString::number(after - before)));
    }

    void metricsPassPromtool()
    {
        QVERIFY(httpPostJson(url("/webhook?wait=5"), patch("metrics-1")).status == 200);
        const QString promtool = QStandardPaths::findExecutable("promtool");
        QVERIFY2(!promtool.isEmpty(),
                 "promtool is missing: ./dev test installs Debian's prometheus");
        const HttpReply m = httpGet(url("/metrics"));
        QCOMPARE(m.status, 200);
        QVERIFY(m.header("Content-Type").startsWith("text/plain; version=0.0.4"));
        QVERIFY(m.body.contains("ghost_runner_deliveries_total{status=\"applied\"} "));
        QVERIFY(m.body.contains("ghost_runner_intake_duration_seconds_bucket"));
        QProcess p;
        p.start(promtool, {"check", "metrics"});
        p.write(m.body);
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(30000));
        QVERIFY2(p.exitCode() == 0,
                 (p.readAllStandardOutput() + p.readAllStandardError()).constData());
    }

    void eventsStreamToCurlAndResume()
    {
        const QString curl = QStandardPaths::findExecutable("curl");
        QVERIFY2(!curl.isEmpty(), "curl is missing: ./dev test installs it");
        QProcess c;
        c.start(curl, {"-sN", url("/events")});
        QVERIFY(c.waitForStarted());
        QByteArray head;
        QTRY_VERIFY2((head += c.readAllStandardOutput()).contains("retry:"),
                     (head + c.readAllStandardError()).constData());
        const HttpReply r = httpPostJson(url("/webhook"), patch("events-1"));
        QCOMPARE(r.status, 202);
        const QString delivery = r.json["delivery"].toString();
        QByteArray seen;
        QTRY_VERIFY((seen += c.readAllStandardOutput()).contains("\"status\":\"applied\""));
        c.kill();
        c.waitForFinished();
        QVERIFY(seen.contains("event: delivery"));
        QVERIFY(seen.contains("\"delivery\":\"" + delivery.toUtf8() + "\""));
        QVERIFY(seen.contains("\"id\":\"events-1\""));
        QVERIFY(seen.contains("\"status\":\"queued\""));
        // Resume after the first event: the client gets what it missed, from the backlog.
        const qsizetype idAt = seen.indexOf("id: ");
        const QByteArray firstId = seen.mid(idAt + 4, seen.indexOf('\n', idAt) - idAt - 4);
        QProcess again;
        again.start(
            curl, {"-sN", "-H", "Last-Event-ID: " + QString::fromLatin1(firstId), url("/events")});
        QByteArray resumed;
        QTRY_VERIFY((resumed += again.readAllStandardOutput()).contains("\"status\":\"applied\""));
        again.kill();
        again.waitForFinished();
        QVERIFY(!resumed.contains("id: " + firstId + "\n"));
    }

    void deliveriesFilterAndPage()
    {
        for (int i = 0; i < 5; ++i)
            QCOMPARE(httpPostJson(url("/webhook?wait=5"), patch(QString("page-%1").arg(i))).status,
                     200);
        const QByteArray failing =
            QJsonDocument(
                QJsonObject{{"id", "page-fail"},
                            {"target_file", "a.txt"},
                            {"patch", QJsonObject{{"pattern", "zzz"}, {"replacement", "y"}}}})
                .toJson(QJsonDocument::Compact);
        QCOMPARE(httpPostJson(url("/webhook?wait=5"), failing).status, 422);
        const HttpReply failed = httpGet(url("/deliveries?status=failed"));
        QCOMPARE(failed.json["deliveries"].toArray().size(), 1);
        QCOMPARE(failed.json["deliveries"].toArray()[0].toObject()["id"].toString(),
                 QString("page-fail"));
        QCOMPARE(httpGet(url("/deliveries?id=page-3")).json["deliveries"].toArray().size(), 1);
        // Paging: 2 at a time, newest first, following "next" to the end.
        QStringList ids;
        QString next = "/deliveries?limit=2";
        int pages = 0;
        while (!next.isEmpty() && pages < 20) {
            const HttpReply page = httpGet(url(next));
            QCOMPARE(page.status, 200);
            for (const QJsonValue &d : page.json["deliveries"].toArray())
                ids << d.toObject()["id"].toString();
            next = page.json["next"].toString();
            ++pages;
        }
        QVERIFY(ids.indexOf("page-4") < ids.indexOf("page-0"));
        QCOMPARE(ids.count("page-2"), 1);
        QVERIFY(ids.size() >= 6);
        QCOMPARE(httpGet(url("/deliveries?limit=0")).status, 400);
        QCOMPARE(httpGet(url("/deliveries?since=yesterday")).status, 400);
    }

    void replayMakesALinkedDelivery()
    {
        const HttpReply first =
            httpPostJson(url("/webhook?wait=5"), patch("replay-me", "r.txt", "once"));
        QCOMPARE(first.status, 200);
        const QString old = first.json["delivery"].toString();
        QFile::remove(m_dir.path() + "/ws/r.txt");
        const HttpReply r = httpRequest("POST", url("/deliveries/" + old + "/replay"));
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json["replay_of"].toString(), old);
        const QString fresh = r.json["delivery"].toString();
        QVERIFY(fresh != old);
        QTRY_COMPARE(httpGet(url("/deliveries/" + fresh)).json["status"].toString(),
                     QString("applied"));
        QCOMPARE(httpGet(url("/deliveries/" + fresh)).json["replay_of"].toString(), old);
        QCOMPARE(TestSupport::readFile(m_dir.path() + "/ws/r.txt"), QByteArray("once"));
        // A delivery still in progress cannot be replayed; an unknown one is 404.
        QCOMPARE(httpRequest("POST", url("/deliveries/unknown/replay")).status, 404);
    }

    void requestsArrivingTogetherShareOneCommit()
    {
        // Freeze the daemon, let 20 requests arrive on 20 connections, thaw it: they are read
        // in the same turn of its event loop and journaled by far fewer transactions than 20,
        // each still answered 202 only after its commit.
        const auto metric = [&](const QByteArray &name) {
            for (const QByteArray &line : httpGet(url("/metrics")).body.split('\n'))
                if (line.startsWith(name + ' '))
                    return line.mid(name.size() + 1).toLongLong();
            return -1LL;
        };
        const qint64 commitsBefore = metric("ghost_runner_intake_commits_total");
        const qint64 requestsBefore = metric("ghost_runner_intake_committed_requests_total");
        std::vector<std::unique_ptr<QTcpSocket>> sockets;
        for (int i = 0; i < 20; ++i) {
            sockets.push_back(std::make_unique<QTcpSocket>());
            sockets.back()->connectToHost(QHostAddress::LocalHost, m_daemon.port());
            QVERIFY(sockets.back()->waitForConnected(5000));
        }
        QCOMPARE(::kill(pid_t(m_daemon.pid()), SIGSTOP), 0);
        for (int i = 0; i < 20; ++i) {
            const QByteArray body = patch(QStringLiteral("group-%1").arg(i));
            sockets[i]->write("POST /webhook HTTP/1.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: " +
                              QByteArray::number(body.size()) + "\r\n\r\n" + body);
            QVERIFY(sockets[i]->waitForBytesWritten(5000));
        }
        QCOMPARE(::kill(pid_t(m_daemon.pid()), SIGCONT), 0);
        for (auto &s : sockets) {
            QByteArray answer;
            while (!answer.contains("\r\n\r\n") && s->waitForReadyRead(10000))
                answer += s->readAll();
            QVERIFY2(answer.startsWith("HTTP/1.1 202"), answer.constData());
        }
        const qint64 commits = metric("ghost_runner_intake_commits_total") - commitsBefore;
        const qint64 requests =
            metric("ghost_runner_intake_committed_requests_total") - requestsBefore;
        qInfo("20 requests journaled by %lld commits", commits);
        QCOMPARE(requests, 20);
        QVERIFY2(commits < 10, qPrintable(QString::number(commits)));
    }

    void waitTimesOutWithTheCurrentState()
    {
        TestSupport::writeTree(m_dir.path(), {{"paused.ini", "[executor]\nstart_paused = true\n"}});
        DaemonProcess paused;
        QVERIFY(paused.start({"--port", "0", "--workspace", m_dir.path() + "/ws", "--state-dir",
                              m_dir.path() + "/state2", "--config", m_dir.path() + "/paused.ini"}));
        QElapsedTimer t;
        t.start();
        const HttpReply r = httpPostJson(paused.baseUrl() + "/webhook?wait=1", patch("waiting"));
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json["status"].toString(), QString("queued"));
        QVERIFY(t.elapsed() >= 900);
        const HttpReply h = httpGet(paused.baseUrl() + "/health");
        QCOMPARE(h.status, 200);
        QCOMPARE(h.json["status"].toString(), QString("degraded"));
        QCOMPARE(jsonAt(h.json, "components/executor/paused").toBool(), true);
    }
};

QTEST_GUILESS_MAIN(tst_Api)
#include "tst_api.moc"
