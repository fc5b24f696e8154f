#pragma once
// Plain HTTP request and response values that the server hands to route handlers.

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrlQuery>

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

struct HttpRequest
{
    QByteArray method;
    QByteArray target; // as sent: path and query
    QString path;      // percent-decoded path
    QUrlQuery query;
    QByteArray version; // "HTTP/1.1"
    HeaderList headers;
    QByteArray body;
    QHostAddress peer;
    qint64 receivedAtMs = 0; // wall clock when the first byte of the request arrived

    // Case-insensitive; the first value, or empty.
    QByteArray header(const QByteArray &name) const;
    bool peerIsLoopback() const { return peer.isLoopback(); }
};

struct HttpResponse
{
    int status = 200;
    HeaderList headers;
    QByteArray body;

    static HttpResponse json(int status, const QJsonObject &body);
    // {"error":{"code":…,"message":…}} — the one error shape of the API.
    static HttpResponse error(int status, const QString &code, const QString &message);
    static HttpResponse text(int status, const QByteArray &body, const QByteArray &contentType);
    HttpResponse &withHeader(const QByteArray &name, const QByteArray &value);
    static QByteArray reasonPhrase(int status);
};
