#pragma once
// Listens on one address and hands complete requests to an HttpHandler. It reports a failed
// bind as a value (never "listening" unless it is), caps concurrent connections, and counts
// requests it refused by reason for /metrics.

#include "httpconnection.h"
#include "result.h"

#include <QHash>
#include <QTcpServer>

class HttpServer final : public QTcpServer
{
    Q_OBJECT
public:
    HttpServer(HttpHandler *handler, QObject *parent = nullptr);

    // For new connections, and for open ones from their next request (a reload).
    void setLimits(const HttpLimits &limits);
    const HttpLimits &limits() const { return m_limits; }
    Status start(const QHostAddress &address, quint16 port);
    QString listeningAddress() const; // "127.0.0.1:5555"
    int connectionCount() const { return m_connections; }
    QHash<QString, qint64> rejectedByReason() const { return m_rejected; }
    // Stops accepting; open connections finish what they are doing.
    void stopAccepting() { close(); }

signals:
    void requestRejected(const QString &reason);

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    HttpHandler *m_handler;
    HttpLimits m_limits;
    int m_connections = 0;
    QHash<QString, qint64> m_rejected;
};
