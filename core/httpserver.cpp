#include "httpserver.h"

#include <QTcpSocket>

HttpServer::HttpServer(HttpHandler *handler, QObject *parent)
    : QTcpServer(parent), m_handler(handler)
{}

Status HttpServer::start(const QHostAddress &address, quint16 port)
{
    if (!listen(address, port)) {
        QString why = errorString();
        if (serverError() == QAbstractSocket::AddressInUseError)
            why = QStringLiteral("address in use");
        return makeError("listen_failed", QStringLiteral("cannot listen on %1:%2: %3")
                                              .arg(address.toString())
                                              .arg(port)
                                              .arg(why));
    }
    return {};
}

void HttpServer::setLimits(const HttpLimits &limits)
{
    m_limits = limits;
    for (HttpConnection *c : findChildren<HttpConnection *>(Qt::FindDirectChildrenOnly))
        c->setLimits(limits);
}

QString HttpServer::listeningAddress() const
{
    if (!isListening())
        return QString();
    const QHostAddress a = serverAddress();
    const QString host =
        a.protocol() == QAbstractSocket::IPv6Protocol ? "[" + a.toString() + "]" : a.toString();
    return host + ':' + QString::number(serverPort());
}

void HttpServer::incomingConnection(qintptr socketDescriptor)
{
    auto *socket = new QTcpSocket;
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        delete socket;
        return;
    }
    if (m_connections >= m_limits.maxConnections) {
        ++m_rejected[QStringLiteral("too_many_connections")];
        emit requestRejected(QStringLiteral("too_many_connections"));
        const HttpResponse r =
            HttpResponse::error(503, "too_many_connections",
                                "the server has too many open connections; retry shortly")
                .withHeader("Retry-After", "1");
        socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                      "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                      QByteArray::number(r.body.size()) + "\r\n\r\n" + r.body);
        socket->disconnectFromHost();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        return;
    }
    ++m_connections;
    auto *conn = new HttpConnection(socket, m_limits, m_handler, this);
    connect(conn, &HttpConnection::rejected, this, [this](const QString &reason) {
        ++m_rejected[reason];
        emit requestRejected(reason);
    });
    connect(conn, &HttpConnection::closed, this, [this] { --m_connections; });
}
