#include "eventstream.h"

#include <QJsonDocument>
#include <QJsonObject>

EventStream::EventStream(QObject *parent) : QObject(parent)
{
    // A comment line now and then keeps proxies from closing a quiet stream; it only runs while
    // someone listens.
    m_keepAlive.setInterval(15000);
    connect(&m_keepAlive, &QTimer::timeout, this, [this] {
        for (const auto &c : std::as_const(m_clients)) {
            if (c)
                c->write(": keep-alive\n\n");
        }
        m_clients.removeAll(nullptr);
        if (m_clients.isEmpty())
            m_keepAlive.stop();
    });
}

void EventStream::subscribe(HttpConnection *connection, qint64 lastEventId)
{
    connection->beginStream(200, {{"Content-Type", "text/event-stream"},
                                  {"Cache-Control", "no-cache"},
                                  {"X-Accel-Buffering", "no"}});
    connection->write("retry: 2000\n\n");
    if (lastEventId > 0) {
        // Events the client has not seen may be gone: older than the backlog keeps, or from
        // before a restart (ids start again at 1, so the client's is ahead of ours). It is told
        // to read the current state again (GET /deliveries, GET /health), then gets what is kept.
        const qint64 oldest = m_backlog.empty() ? m_nextId : m_backlog.front().id;
        const bool restarted = lastEventId >= m_nextId;
        if (restarted || lastEventId + 1 < oldest) {
            const QJsonObject gap{{"reason", restarted ? "restarted" : "missed"},
                                  {"last_event_id", lastEventId},
                                  {"oldest_kept", oldest}};
            connection->write("event: resync\ndata: " +
                              QJsonDocument(gap).toJson(QJsonDocument::Compact) + "\n\n");
        }
        for (const Event &e : std::as_const(m_backlog)) {
            if (restarted || e.id > lastEventId)
                connection->write(e.text);
        }
    }
    m_clients.append(QPointer<HttpConnection>(connection));
    if (!m_keepAlive.isActive())
        m_keepAlive.start();
}

void EventStream::publish(const QString &type, const QJsonObject &data)
{
    const qint64 id = m_nextId++;
    const QByteArray text = "id: " + QByteArray::number(id) + "\nevent: " + type.toUtf8() +
                            "\ndata: " + QJsonDocument(data).toJson(QJsonDocument::Compact) +
                            "\n\n";
    m_backlog.push_back({id, text});
    while (m_backlog.size() > kBacklog)
        m_backlog.pop_front();
    m_clients.removeAll(nullptr);
    for (const auto &c : std::as_const(m_clients))
        c->write(text);
}

int EventStream::subscriberCount() const
{
    int n = 0;
    for (const auto &c : m_clients)
        n += c ? 1 : 0;
    return n;
}
