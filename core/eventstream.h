#pragma once
// GET /events: Server-Sent Events, one per delivery state change and per health change. Each
// event has an increasing id; a client reconnecting with Last-Event-ID gets what it missed from
// a bounded backlog. Clients that leave are dropped; nothing polls.

#include "httpconnection.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <deque>

class EventStream final : public QObject
{
    Q_OBJECT
public:
    explicit EventStream(QObject *parent = nullptr);

    // Takes over the connection: answers with the stream head and replays after lastEventId.
    void subscribe(HttpConnection *connection, qint64 lastEventId);
    void publish(const QString &type, const QJsonObject &data);
    int subscriberCount() const;
    qint64 lastId() const { return m_nextId - 1; }

private:
    struct Event
    {
        qint64 id;
        QByteArray text;
    };
    std::deque<Event> m_backlog;
    QList<QPointer<HttpConnection>> m_clients;
    qint64 m_nextId = 1;
    QTimer m_keepAlive;
    static constexpr int kBacklog = 1000;
};
