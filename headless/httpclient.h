#pragma once
// Blocking HTTP for the command-line tools: one request, a timeout, the answer as a value.

#include "result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QUrl>

struct HttpAnswer
{
    int status = 0;
    QByteArray body;
    QJsonObject json;
    QList<QPair<QByteArray, QByteArray>> headers;
};

class HttpClient
{
public:
    // An error (code "unreachable") when no HTTP answer came at all.
    static Result<HttpAnswer> request(const QByteArray &method, const QUrl &url,
                                      const QByteArray &body = {},
                                      const QList<QPair<QByteArray, QByteArray>> &headers = {},
                                      int timeoutMs = 10000);
};
