// DaemonClient (attach mode) against a real Engine in-process on port 0, and against a scripted
// server for the SSE details: split chunks, comments, CRLF, Last-Event-ID on reconnect.
#include "daemonclient.h"
#include "engine.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

Q_DECLARE_METATYPE(Delivery)
Q_DECLARE_METATYPE(Health)

class tst_DaemonClient : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void followsARealEngine();
    void resumesWithLastEventIdAfterStop();
    void parsesSplitStreamAndReconnectsWithLastEventId();
    void reconnectsWhenTheDaemonAppears();

private:
    std::unique_ptr<Engine> startEngine(QTemporaryDir &dir, int port = 0);
    static QByteArray failingPatch(const QString &id)
    {
        return QStringLiteral(R"({"id":"%1","target_file":"missing.txt",)"
                              R"("patch":{"pattern":"a","replacement":"b"}})")
            .arg(id)
            .toUtf8();
    }
};

void tst_DaemonClient::initTestCase()
{
    qRegisterMetaType<Delivery>();
    qRegisterMetaType<QList<Delivery>>();
    qRegisterMetaType<Health>();
}

std::unique_ptr<Engine> tst_DaemonClient::startEngine(QTemporaryDir &dir, int port)
{
    QDir().mkpath(dir.path() + "/ws");
    Config c;
    const Status a = c.set("paths.workspace", dir.path() + "/ws", "test");
    const Status b = c.set("paths.state_dir", dir.path() + "/state", "test");
    const Status p = c.set("server.port", QString::number(port), "test");
    const Status f = c.finalize();
    if (!a.ok() || !b.ok() || !p.ok() || !f.ok())
        return nullptr;
    auto e = std::make_unique<Engine>(c);
    if (!e->start().ok())
        return nullptr;
    return e;
}

void tst_DaemonClient::followsARealEngine()
{
    QTemporaryDir dir;
    auto engine = startEngine(dir);
    QVERIFY(engine);
    DaemonClient client(QUrl("http://" + engine->listeningAddress()));
    QSignalSpy connected(&client, &DaemonClient::connectedChanged);
    QSignalSpy health(&client, &DaemonClient::healthReceived);
    QSignalSpy lists(&client, &DaemonClient::deliveriesReceived);
    QSignalSpy events(&client, &DaemonClient::deliveryEvent);
    QSignalSpy details(&client, &DaemonClient::deliveryReceived);
    client.start();
    QVERIFY(connected.wait(5000));
    QCOMPARE(connected.at(0).at(0).toBool(), true);
    QTRY_COMPARE(health.count(), 1);
    QCOMPARE(health.at(0).at(0).toJsonObject().value("status").toString(), QStringLiteral("ok"));
    QTRY_COMPARE(lists.count(), 1);

    IntakeRequest r;
    r.body = failingPatch("attach-fail-1");
    const Result<RecordResult> rec = engine->intake(r);
    QVERIFY(rec.ok());
    const QString id = rec->delivery.id;
    QTRY_VERIFY(std::any_of(events.cbegin(), events.cend(), [](const QList<QVariant> &a) {
        return a.at(2).toString() == QLatin1String("failed");
    }));
    QCOMPARE(events.at(0).at(0).toString(), id);
    QCOMPARE(events.at(0).at(1).toString(), QStringLiteral("attach-fail-1"));
    QVERIFY(client.lastEventId() > 0);

    client.fetchDelivery(id);
    QVERIFY(details.wait(5000));
    const Delivery d = details.at(0).at(0).value<Delivery>();
    QCOMPARE(d.status, QStringLiteral("failed"));
    QCOMPARE(d.patchId, QStringLiteral("attach-fail-1"));
    QCOMPARE(d.outcome.error.code, QStringLiteral("file_not_found"));
    QVERIFY(!d.events.isEmpty());
    QVERIFY(d.receivedAtMs > 0);

    QSignalSpy replayed(&client, &DaemonClient::replayFinished);
    client.replay(id);
    QVERIFY(replayed.wait(5000));
    QVERIFY2(replayed.at(0).at(0).toBool(), qPrintable(replayed.at(0).at(1).toString()));
    QVERIFY(replayed.at(0).at(1).toString() != id);
}

void tst_DaemonClient::resumesWithLastEventIdAfterStop()
{
    QTemporaryDir dir;
    auto engine = startEngine(dir);
    QVERIFY(engine);
    DaemonClient client(QUrl("http://" + engine->listeningAddress()));
    QSignalSpy events(&client, &DaemonClient::deliveryEvent);
    client.start();
    QTRY_VERIFY(client.isConnected());
    IntakeRequest first;
    first.body = failingPatch("before-stop");
    QVERIFY(engine->intake(first).ok());
    QTRY_VERIFY(events.count() >= 3);
    client.stop();
    QVERIFY(!client.isConnected());
    events.clear();
    IntakeRequest missed;
    missed.body = failingPatch("while-away");
    QVERIFY(engine->intake(missed).ok());
    QTRY_COMPARE(engine->queueLength(), 0);
    client.start(); // resumes after the last id it saw: the missed delivery's events replay
    QTRY_VERIFY(std::any_of(events.cbegin(), events.cend(), [](const QList<QVariant> &a) {
        return a.at(1).toString() == QLatin1String("while-away") &&
               a.at(2).toString() == QLatin1String("failed");
    }));
    QVERIFY(std::none_of(events.cbegin(), events.cend(), [](const QList<QVariant> &a) {
        return a.at(1).toString() == QLatin1String("before-stop");
    }));
}

void tst_DaemonClient::parsesSplitStreamAndReconnectsWithLastEventId()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QList<QByteArray> eventRequests;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        QTcpSocket *s = server.nextPendingConnection();
        connect(s, &QTcpSocket::readyRead, s, [&, s] {
            const QByteArray req = s->readAll();
            if (!req.startsWith("GET /events")) { // /health, /deliveries
                const QByteArray body = req.startsWith("GET /health")
                                            ? QByteArray(R"({"status":"ok"})")
                                            : QByteArray(R"({"deliveries":[]})");
                s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
                s->disconnectFromHost();
                return;
            }
            eventRequests.append(req);
            s->write(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
            if (eventRequests.size() == 1) {
                s->write("retry: 2000\n\n: keep-alive\n\nid: 6\nevent: delivery\ndata: {\"deli");
                s->flush();
                s->write("very\":\"d-6\",\"id\":\"p-6\",\"status\":\"failed\"}\r\n\r\n"
                         "id: 7\nevent: health\ndata: {\"status\":\"degraded\",\"previous\":\"ok\","
                         "\"problems\":[\"runner unreachable\"]}\n\n");
                s->disconnectFromHost(); // the daemon went away
            }
        });
    });
    DaemonClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.serverPort())));
    client.setBackoff(20, 100);
    QSignalSpy deliveries(&client, &DaemonClient::deliveryEvent);
    QSignalSpy health(&client, &DaemonClient::healthEvent);
    QSignalSpy connected(&client, &DaemonClient::connectedChanged);
    client.start();
    QTRY_COMPARE(deliveries.count(), 1);
    QCOMPARE(deliveries.at(0).at(0).toString(), QStringLiteral("d-6"));
    QCOMPARE(deliveries.at(0).at(2).toString(), QStringLiteral("failed"));
    QTRY_COMPARE(health.count(), 1);
    QCOMPARE(health.at(0).at(0).value<Health>(), Health::Degraded);
    QCOMPARE(health.at(0).at(2).toStringList(), QStringList{"runner unreachable"});
    QCOMPARE(client.lastEventId(), 7);
    // It noticed the drop and came back by itself, saying where it left off.
    QTRY_COMPARE(eventRequests.size(), 2);
    // Header names are case-insensitive; Qt >= 6.8 sends them in lower case.
    QVERIFY2(eventRequests.at(1).toLower().contains("last-event-id: 7"),
             eventRequests.at(1).constData());
    QVERIFY(!eventRequests.at(0).toLower().contains("last-event-id"));
    QTRY_VERIFY(client.isConnected());
    QVERIFY(connected.count() >= 3); // up, down, up
}

void tst_DaemonClient::reconnectsWhenTheDaemonAppears()
{
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const int port = probe.serverPort();
    probe.close();
    DaemonClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
    client.setBackoff(20, 200);
    QSignalSpy health(&client, &DaemonClient::healthReceived);
    client.start();
    QTRY_VERIFY(client.reconnectDelayMs() > 20); // it has failed and is backing off
    QVERIFY(!client.isConnected());
    QTemporaryDir dir;
    auto engine = startEngine(dir, port);
    QVERIFY(engine);
    QTRY_VERIFY_WITH_TIMEOUT(client.isConnected(), 5000);
    QTRY_VERIFY(health.count() >= 1);
}

QTEST_GUILESS_MAIN(tst_DaemonClient)
#include "tst_daemonclient.moc"
