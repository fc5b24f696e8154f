#include "selftest.h"

#include "signer.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QUuid>

SelfTest::SelfTest(QUrl baseUrl, QByteArray secret, QString logPath, QObject *parent)
    : QObject(parent), m_base(std::move(baseUrl)), m_secret(std::move(secret)),
      m_logPath(std::move(logPath))
{
    m_deadline.setSingleShot(true);
    m_nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

QByteArray SelfTest::canaryEnvelope(const QString &id)
{
    return QJsonDocument(
               QJsonObject{{"id", id},
                           {"format", "mutations"},
                           {"dry_run", true},
                           {"description", "ghost-runner self-test canary (a dry run)"},
                           {"mutations", QJsonArray{QJsonObject{{"path", ".ghost-runner-canary"},
                                                                {"contents", "canary\n"}}}}})
        .toJson(QJsonDocument::Compact);
}

void SelfTest::start(int timeoutMs)
{
    const QString id = QStringLiteral("ghost-runner-canary-%1")
                           .arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
    const QByteArray body = canaryEnvelope(id);
    QUrl url = m_base;
    url.setPath(url.path() + QStringLiteral("/webhook"));
    url.setQuery(QStringLiteral("wait=%1").arg(qMax(1, timeoutMs / 1000)));
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    req.setTransferTimeout(timeoutMs + 1000);
    if (!m_secret.isEmpty()) {
        for (const auto &h :
             Signer::signedHeaders(m_secret, id.toUtf8(), body, QDateTime::currentDateTimeUtc()))
            req.setRawHeader(h.first, h.second);
    }
    connect(&m_deadline, &QTimer::timeout, this, [this, timeoutMs] {
        done(false, QStringLiteral("no confirmation line for the canary within %1 s")
                        .arg(timeoutMs / 1000.0));
    });
    m_deadline.start(timeoutMs + 2000);
    QNetworkReply *reply = m_nam.post(req, body);
    connect(reply, &QNetworkReply::finished, this, [this, reply, timeoutMs] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject json = QJsonDocument::fromJson(reply->readAll()).object();
        m_delivery = json.value("delivery").toString();
        // The transfer timeout cancels the reply: the daemon took the request and never answered.
        if (status == 0 && (reply->error() == QNetworkReply::OperationCanceledError ||
                            reply->error() == QNetworkReply::TimeoutError))
            return done(false, QStringLiteral("no answer from %1 within %2 s")
                                   .arg(m_base.toString())
                                   .arg((timeoutMs + 1000) / 1000.0));
        if (status == 0)
            return done(
                false,
                QStringLiteral("cannot reach %1: %2").arg(m_base.toString(), reply->errorString()));
        if (status == 401)
            return done(false, QStringLiteral("the daemon refused our signature (401 %1); use "
                                              "the same secret as the daemon")
                                   .arg(json["error"].toObject()["code"].toString()));
        if (status == 202) {
            // Journaled but not finished within the wait: the chain accepts and does not execute.
            const QJsonArray timeline = json.value("timeline").toArray();
            const QString last =
                timeline.isEmpty()
                    ? QString()
                    : timeline.last().toObject()["detail"].toObject()["error"].toString();
            return done(false, QStringLiteral("the daemon journaled canary %1, but it is still %2 "
                                              "after %3 s: accepted, not executed%4")
                                   .arg(m_delivery, json.value("status").toString("?"))
                                   .arg(qMax(1, timeoutMs / 1000))
                                   .arg(last.isEmpty() ? QString() : " (" + last + ")"));
        }
        if (status != 200 || json.value("status").toString() != QLatin1String("applied"))
            return done(false, QStringLiteral("the canary did not go through: HTTP %1, status %2%3")
                                   .arg(status)
                                   .arg(json.value("status").toString("?"))
                                   .arg(json.contains("error")
                                            ? ": " + json["error"].toObject()["message"].toString()
                                            : QString()));
        if (m_logPath.isEmpty())
            return done(true, QStringLiteral("canary %1 confirmed by the daemon").arg(m_delivery));
        // The line is written before the answer, so it must already be there.
        if (logHasLine())
            return done(true,
                        QStringLiteral("canary %1 confirmed in %2").arg(m_delivery, m_logPath));
        done(false, QStringLiteral("the daemon answered, but %1 has no line for canary %2")
                        .arg(m_logPath, m_delivery));
    });
}

bool SelfTest::logHasLine() const
{
    QFile f(m_logPath);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray needle = "\"delivery\":\"" + m_delivery.toUtf8() + '"';
    // The canary's line is among the last ones: read only the tail.
    if (f.size() > 1 << 20)
        f.seek(f.size() - (1 << 20));
    return f.readAll().contains(needle);
}

void SelfTest::done(bool ok, const QString &message)
{
    if (m_finished)
        return;
    m_finished = true;
    m_deadline.stop();
    emit finished(ok, message);
}
