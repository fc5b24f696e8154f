// GET /events as a stream over real loopback sockets: the stream head, one event per publish to
// every subscriber, increasing ids, Last-Event-ID replay from a bounded backlog, and clients
// that leave being dropped.

#include "eventstream.h"
#include "httpserver.h"

#include <QJsonDocument>
#include <QTcpSocket>
#include <QTest>
#include <memory>

namespace {
struct SseEvent
{
    qint64 id = 0;
    QString type;
    QJsonObject data;
    QByteArray rawData;
};

// Subscribes every request to the stream, resuming after its Last-Event-ID header.
class StreamHandler final : public HttpHandler
{
public:
    EventStream *stream = nullptr;
    void handle(const HttpRequest &request, HttpConnection *connection) override
    {
        stream->subscribe(connection, request.header("Last-Event-ID").toLongLong());
    }
};

class SseClient
{
public:
    SseClient(quint16 port, qint64 lastEventId = -1)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        QByteArray request =
            "GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n";
        if (lastEventId >= 0)
            request += "Last-Event-ID: " + QByteArray::number(lastEventId) + "\r\n";
        m_socket.write(request + "\r\n");
        QObject::connect(&m_socket, &QTcpSocket::readyRead, [this] { m_in += m_socket.readAll(); });
    }
    QTcpSocket &socket() { return m_socket; }
    const QByteArray &raw() const { return m_in; }
    QByteArray head() const { return m_in.left(m_in.indexOf("\r\n\r\n") + 4); }
    QByteArray streamText() const
    {
        const int end = m_in.indexOf("\r\n\r\n");
        return end < 0 ? QByteArray() : m_in.mid(end + 4);
    }
    // Complete events so far (blocks ending in a blank line that carry an id).
    QList<SseEvent> events() const
    {
        QList<SseEvent> out;
        QByteArray text = streamText();
        int start = 0;
        for (int end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n", start)) {
            const QByteArray block = text.mid(start, end - start);
            start = end + 2;
            SseEvent e;
            for (const QByteArray &line : block.split('\n')) {
                if (line.startsWith("id: "))
                    e.id = line.mid(4).toLongLong();
                else if (line.startsWith("event: "))
                    e.type = QString::fromUtf8(line.mid(7));
                else if (line.startsWith("data: "))
                    e.rawData = line.mid(6);
            }
            if (e.id > 0) {
                e.data = QJsonDocument::fromJson(e.rawData).object();
                out.append(e);
            }
        }
        return out;
    }
    QList<qint64> ids() const
    {
        QList<qint64> out;
        for (const SseEvent &e : events())
            out.append(e.id);
        return out;
    }
    bool subscribed() const { return streamText().startsWith("retry: 2000\n\n"); }

private:
    QTcpSocket m_socket;
    QByteArray m_in;
};

QList<qint64> range(qint64 from, qint64 to)
{
    QList<qint64> out;
    for (qint64 i = from; i <= to; ++i)
        out.append(i);
    return out;
}
} // namespace

class tst_EventStream : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<EventStream> m_stream;
    StreamHandler m_handler;
    std::unique_ptr<HttpServer> m_server;

    quint16 port() const { return m_server->serverPort(); }
    void publishDelivery(int n)
    {
        m_stream->publish("delivery", QJsonObject{{"delivery", QString("d-%1").arg(n)},
                                                  {"id", QString("patch-%1").arg(n)},
                                                  {"status", "queued"}});
    }

private slots:
    void init()
    {
        m_stream = std::make_unique<EventStream>();
        m_handler.stream = m_stream.get();
        m_server = std::make_unique<HttpServer>(&m_handler);
        QVERIFY(m_server->start(QHostAddress::LocalHost, 0).ok());
    }
    void cleanup()
    {
        m_server.reset();
        m_stream.reset();
    }

    void streamHead()
    {
        SseClient c(port());
        QTRY_VERIFY_WITH_TIMEOUT(c.subscribed(), 2000);
        const QByteArray head = c.head();
        QVERIFY2(head.startsWith("HTTP/1.1 200 OK\r\n"), head.constData());
        QVERIFY(head.contains("\r\nContent-Type: text/event-stream\r\n"));
        QVERIFY(head.contains("\r\nCache-Control: no-cache\r\n"));
        QVERIFY(head.contains("\r\nConnection: close\r\n"));
        // Delimited by the connection's end: a length would cut the stream short.
        QVERIFY(!head.toLower().contains("content-length"));
        QCOMPARE(m_stream->subscriberCount(), 1);
        QVERIFY(c.events().isEmpty());
    }

    void everySubscriberGetsEveryEvent()
    {
        SseClient a(port()), b(port()), c(port());
        QTRY_VERIFY_WITH_TIMEOUT(a.subscribed() && b.subscribed() && c.subscribed(), 2000);
        QCOMPARE(m_stream->subscriberCount(), 3);
        publishDelivery(1);
        m_stream->publish("health", QJsonObject{{"status", "degraded"}, {"previous", "ok"}});
        for (SseClient *client : {&a, &b, &c}) {
            QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 2, 2000);
            const QList<SseEvent> ev = client->events();
            QCOMPARE(ev[0].id, qint64(1));
            QCOMPARE(ev[0].type, QString("delivery"));
            QCOMPARE(ev[0].data.value("delivery").toString(), QString("d-1"));
            QCOMPARE(ev[0].data.value("id").toString(), QString("patch-1"));
            QCOMPARE(ev[0].data.value("status").toString(), QString("queued"));
            QCOMPARE(ev[1].id, qint64(2));
            QCOMPARE(ev[1].type, QString("health"));
            QCOMPARE(ev[1].data.value("status").toString(), QString("degraded"));
        }
        QCOMPARE(a.streamText(), b.streamText());
    }

    void idsIncreaseFromOne()
    {
        QCOMPARE(m_stream->lastId(), qint64(0));
        for (int i = 1; i <= 5; ++i) {
            publishDelivery(i);
            QCOMPARE(m_stream->lastId(), qint64(i));
        }
    }

    void exactWireFormat()
    {
        SseClient c(port());
        QTRY_VERIFY_WITH_TIMEOUT(c.subscribed(), 2000);
        m_stream->publish("delivery", QJsonObject{{"status", "applied"}});
        QTRY_COMPARE_WITH_TIMEOUT(
            c.streamText(),
            QByteArray("retry: 2000\n\nid: 1\nevent: delivery\ndata: {\"status\":\"applied\"}\n\n"),
            2000);
    }

    void dataStaysOnOneLine()
    {
        SseClient c(port());
        QTRY_VERIFY_WITH_TIMEOUT(c.subscribed(), 2000);
        const QString message = QString::fromUtf8("line one\nline two\r\n\n→ data: id: 99");
        m_stream->publish("delivery", QJsonObject{{"message", message}});
        QTRY_COMPARE_WITH_TIMEOUT(c.events().size(), 1, 2000);
        const SseEvent e = c.events().first();
        QCOMPARE(e.id, qint64(1));
        QVERIFY(!e.rawData.contains('\n'));
        QVERIFY(!e.rawData.contains('\r'));
        QCOMPARE(e.data.value("message").toString(), message);
    }

    void replayAfterLastEventId_data()
    {
        QTest::addColumn<qint64>("lastEventId"); // -1: no header
        QTest::addColumn<QList<qint64>>("replayed");
        QTest::newRow("no header: only new events") << qint64(-1) << QList<qint64>{};
        QTest::newRow("zero: only new events") << qint64(0) << QList<qint64>{};
        QTest::newRow("missed the last three") << qint64(2) << QList<qint64>{3, 4, 5};
        QTest::newRow("missed one") << qint64(4) << QList<qint64>{5};
        QTest::newRow("missed none") << qint64(5) << QList<qint64>{};
        // Ahead of the stream: the daemon restarted and its ids started again; all it kept is new.
        QTest::newRow("from the future") << qint64(99) << QList<qint64>{1, 2, 3, 4, 5};
    }
    void replayAfterLastEventId()
    {
        QFETCH(qint64, lastEventId);
        QFETCH(QList<qint64>, replayed);
        for (int i = 1; i <= 5; ++i)
            publishDelivery(i);
        SseClient c(port(), lastEventId);
        QTRY_VERIFY_WITH_TIMEOUT(c.subscribed() && m_stream->subscriberCount() == 1, 2000);
        publishDelivery(6); // the live event comes after the replayed ones, in order
        QTRY_VERIFY_WITH_TIMEOUT(c.ids().contains(6), 2000);
        QCOMPARE(c.ids(), replayed + QList<qint64>{6});
        // Nothing was lost here, except across the restart, which the client is told about.
        QCOMPARE(c.streamText().contains("event: resync\n"), lastEventId == 99);
        if (lastEventId == 99)
            QVERIFY(c.streamText().startsWith(
                "retry: 2000\n\nevent: resync\ndata: "
                "{\"last_event_id\":99,\"oldest_kept\":1,\"reason\":\"restarted\"}\n\nid: 1\n"));
        if (!replayed.isEmpty())
            QCOMPARE(c.events().first().data.value("id").toString(),
                     QString("patch-%1").arg(replayed.first()));
    }

    void backlogIsBounded()
    {
        for (int i = 1; i <= 1005; ++i)
            publishDelivery(i);
        SseClient c(port(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(c.events().size(), 1000, 2000);
        QCOMPARE(c.ids(), range(6, 1005));
        // 2 to 5 are gone: the client hears so before what is kept, and can read the state again.
        QVERIFY(c.streamText().startsWith(
            "retry: 2000\n\nevent: resync\ndata: "
            "{\"last_event_id\":1,\"oldest_kept\":6,\"reason\":\"missed\"}\n\nid: 6\n"));
        // One that missed nothing kept is not told anything.
        SseClient recent(port(), 5);
        QTRY_COMPARE_WITH_TIMEOUT(recent.events().size(), 1000, 2000);
        QVERIFY(!recent.streamText().contains("resync"));
    }

    void clientsThatLeaveAreDropped()
    {
        auto leaving = std::make_unique<SseClient>(port());
        SseClient staying(port());
        QTRY_VERIFY_WITH_TIMEOUT(leaving->subscribed() && staying.subscribed(), 2000);
        QCOMPARE(m_stream->subscriberCount(), 2);
        leaving->socket().disconnectFromHost();
        leaving.reset();
        QTRY_COMPARE_WITH_TIMEOUT(m_stream->subscriberCount(), 1, 2000);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 1, 2000);
        publishDelivery(1);
        QTRY_COMPARE_WITH_TIMEOUT(staying.ids(), QList<qint64>{1}, 2000);
        QCOMPARE(m_stream->subscriberCount(), 1);
    }

    void publishingToNobodyIsKeptForLater()
    {
        QCOMPARE(m_stream->subscriberCount(), 0);
        publishDelivery(1);
        publishDelivery(2);
        SseClient late(port(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(late.ids(), QList<qint64>{2}, 2000);
    }
};

QTEST_GUILESS_MAIN(tst_EventStream)
#include "tst_eventstream.moc"
