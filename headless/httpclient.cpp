#include "httpclient.h"

#include <QEventLoop>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

Result<HttpAnswer> HttpClient::request(const QByteArray &method, const QUrl &url,
                                       const QByteArray &body,
                                       const QList<QPair<QByteArray, QByteArray>> &headers,
                                       int timeoutMs)
{
    QNetworkAccessManager nam;
    nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    QNetworkRequest req(url);
    req.setTransferTimeout(timeoutMs);
    for (const auto &h : headers)
        req.setRawHeader(h.first, h.second);
    QNetworkReply *reply = nam.sendCustomRequest(req, method, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs + 500, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    HttpAnswer a;
    a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (a.status == 0) {
        const QString why = reply->isFinished()
                                ? reply->errorString()
                                : QStringLiteral("no answer within %1 s").arg(timeoutMs / 1000.0);
        reply->abort();
        reply->deleteLater();
        return makeError("unreachable",
                         QStringLiteral("cannot reach %1: %2").arg(url.toString(), why));
    }
    a.body = reply->readAll();
    a.headers = reply->rawHeaderPairs();
    a.json = QJsonDocument::fromJson(a.body).object();
    reply->deleteLater();
    return a;
}
