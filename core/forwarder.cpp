#include "forwarder.h"

#include "metrics.h"
#include "outcome.h"
#include "qtcompat.h"
#include "signer.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QRandomGenerator>

Q_LOGGING_CATEGORY(lcForward, "ghostrunner.forward")

namespace {
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// Retry-After in seconds or as an HTTP date; -1 when absent or unreadable.
qint64 retryAfterMs(QNetworkReply *reply)
{
    const QByteArray v = reply->rawHeader("Retry-After").trimmed();
    if (v.isEmpty())
        return -1;
    bool ok = false;
    const qint64 s = v.toLongLong(&ok);
    if (ok && s >= 0)
        return s * 1000;
    const QDateTime when = QDateTime::fromString(QString::fromLatin1(v), Qt::RFC2822Date);
    if (when.isValid())
        return qMax<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(when));
    return -1;
}
} // namespace

Forwarder::Forwarder(Settings settings, Metrics *metrics, QObject *parent)
    : QObject(parent), m_settings(std::move(settings)), m_metrics(metrics),
      m_policy(m_settings.retry)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &Forwarder::attempt);
    m_requestTimer.setSingleShot(true);
    connect(&m_requestTimer, &QTimer::timeout, this, [this] {
        if (m_reply)
            m_reply->abort(); // finished() follows, as OperationCanceledError
    });
    m_nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

Forwarder::~Forwarder()
{
    abandon();
}

bool Forwarder::abandon()
{
    m_retryTimer.stop();
    m_requestTimer.stop();
    if (QNetworkReply *reply = m_reply.data()) {
        m_reply = nullptr;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
    if (m_current)
        qCInfo(lcForward, "delivery %s: forwarding stopped; it resumes on the next start",
               qPrintable(m_current->delivery.id));
    m_current.reset();
    m_nextAttemptAtMs = 0;
    return true;
}

QString Forwarder::postUrl() const
{
    return m_settings.runnerUrl + QStringLiteral("/patch");
}

void Forwarder::deliver(const Delivery &delivery, const QByteArray &body, Progress progress,
                        Done done)
{
    m_policy = RetryPolicy(m_settings.retry);
    m_current = Current{delivery, body, std::move(progress), std::move(done), 0, false};
    attempt();
}

void Forwarder::attempt()
{
    if (!m_current)
        return;
    Current &c = *m_current;
    m_nextAttemptAtMs = 0;
    QNetworkRequest req;
    const QString id = c.delivery.id;
    if (c.polling) {
        req.setUrl(QUrl(m_settings.runnerUrl + QStringLiteral("/deliveries/") + id));
    } else {
        ++c.attempts;
        req.setUrl(QUrl(postUrl() + QStringLiteral("?wait=%1").arg(m_settings.waitSeconds)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
        // The runner keeps our id, so one id names the delivery on both hops.
        req.setRawHeader("X-Ghost-Runner-Delivery", id.toUtf8());
        if (!m_settings.secret.isEmpty()) {
            for (const auto &h : Signer::signedHeaders(m_settings.secret, id.toUtf8(), c.body,
                                                       QDateTime::currentDateTimeUtc()))
                req.setRawHeader(h.first, h.second);
        } else {
            req.setRawHeader("webhook-id", id.toUtf8());
        }
    }
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                     QNetworkRequest::ManualRedirectPolicy);
    // Inactivity (covers connecting) and a cap on the whole exchange.
    req.setTransferTimeout(m_settings.connectTimeoutMs +
                           (c.polling ? 0 : m_settings.waitSeconds * 1000));
    m_reply = c.polling ? m_nam.get(req) : m_nam.post(req, c.body);
    connect(m_reply, &QNetworkReply::finished, this, [this, r = m_reply.data()] { onFinished(r); });
    m_requestTimer.start(m_settings.requestTimeoutMs);
    qCInfo(lcForward, "delivery %s: %s %s (attempt %d)", qPrintable(id),
           c.polling ? "asking for the outcome at" : "forwarding to",
           qPrintable(req.url().toString()), c.attempts);
}

void Forwarder::onFinished(QNetworkReply *reply)
{
    reply->deleteLater();
    m_requestTimer.stop();
    if (!m_current || reply != m_reply)
        return;
    m_reply = nullptr;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    const QJsonObject json = QJsonDocument::fromJson(body).object();
    const QString runnerError = json.value("error").toObject().value("message").toString();
    const QString runnerCode = json.value("error").toObject().value("code").toString();

    if (status == 0) {
        QString why = reply->errorString();
        if (reply->error() == QNetworkReply::OperationCanceledError ||
            reply->error() == QNetworkReply::TimeoutError)
            why = QStringLiteral("no answer within the timeout");
        retryLater(
            "unreachable",
            QStringLiteral("cannot reach the runner at %1: %2").arg(m_settings.runnerUrl, why), 0,
            -1);
        return;
    }
    const QString finalStatus = json.value("status").toString();
    if ((status == 200 || status == 422) && Delivery::isFinalStatus(finalStatus)) {
        m_metrics->forwardAttempt("confirmed");
        m_lastError.clear();
        m_lastSuccessAtMs = nowMs();
        Outcome o = Outcome::fromJson(json);
        o.notes.prepend(QStringLiteral("confirmed by the runner at %1 after %2 attempt%3")
                            .arg(m_settings.runnerUrl)
                            .arg(m_current->attempts)
                            .arg(m_current->attempts == 1 ? "" : "s"));
        m_current->progress("runner_confirmed", QJsonObject{{"http_status", status},
                                                            {"runner_status", o.status},
                                                            {"attempt", m_current->attempts}});
        finish(o);
        return;
    }
    if (status == 202 || status == 200) {
        // The runner has it but has not finished: ask for the outcome shortly.
        m_metrics->forwardAttempt("accepted");
        m_lastError.clear();
        m_lastSuccessAtMs = nowMs();
        if (!m_current->polling)
            m_current->progress("forwarded", QJsonObject{{"http_status", status},
                                                         {"attempt", m_current->attempts}});
        m_current->polling = true;
        m_nextAttemptAtMs = nowMs() + 500;
        m_retryTimer.start(500);
        return;
    }
    if (status == 404 && m_current->polling) {
        m_current->polling = false; // the runner lost it (a new state dir?): send it again
        retryLater("lost", "the runner no longer knows this delivery; sending it again", status, 0);
        return;
    }
    if (status >= 300 && status < 400) {
        retryLater("redirected",
                   QStringLiteral("the runner answered %1 redirecting to %2; redirects are not "
                                  "followed, fix the runner URL")
                       .arg(status)
                       .arg(QString::fromUtf8(reply->rawHeader("Location"))),
                   status, -1);
        return;
    }
    if (status == 401 || status == 403) {
        retryLater("unauthorized",
                   QStringLiteral("the runner refused our signature (%1 %2): %3; check that both "
                                  "sides use the same secret")
                       .arg(status)
                       .arg(runnerCode, runnerError),
                   status, -1);
        return;
    }
    if (status == 429 || status >= 500) {
        retryLater(status == 429 ? "throttled" : "server_error",
                   QStringLiteral("the runner answered %1%2")
                       .arg(status)
                       .arg(runnerError.isEmpty() ? QString() : ": " + runnerError),
                   status, retryAfterMs(reply));
        return;
    }
    // 400, 409, 413, 415, … : sending the same bytes again cannot help.
    m_metrics->forwardAttempt("refused");
    Error e = makeError("runner_refused", QStringLiteral("the runner refused the delivery with "
                                                         "%1 %2: %3")
                                              .arg(status)
                                              .arg(runnerCode, runnerError));
    m_current->progress("runner_refused",
                        QJsonObject{{"http_status", status}, {"error", e.toJson()}});
    finish(Outcome::failure("failed", m_current->delivery.format, e));
}

void Forwarder::retryLater(const QString &result, const QString &error, int httpStatus,
                           qint64 retryAfter)
{
    Current &c = *m_current;
    m_metrics->forwardAttempt(result);
    if (m_lastError.isEmpty())
        m_lastErrorAtMs = nowMs();
    m_lastError = error;
    const qint64 age = nowMs() - c.delivery.receivedAtMs;
    QJsonObject detail{{"attempt", c.attempts}, {"result", result}, {"error", error}};
    if (httpStatus > 0)
        detail.insert("http_status", httpStatus);
    if (!m_policy.mayRetry(c.attempts, age)) {
        qCWarning(lcForward, "delivery %s: giving up after %d attempts: %s",
                  qPrintable(c.delivery.id), c.attempts, qPrintable(error));
        c.progress("attempt_failed", detail);
        Error e = makeError("runner_unreachable",
                            QStringLiteral("gave up after %1 attempt%2 over %3 s: %4")
                                .arg(c.attempts)
                                .arg(c.attempts == 1 ? "" : "s")
                                .arg(age / 1000)
                                .arg(error));
        finish(Outcome::failure("dead", c.delivery.format, e));
        return;
    }
    const qint64 delay = m_policy.delayMs(
        c.attempts, retryAfter, [] { return QRandomGenerator::global()->generateDouble(); });
    m_nextAttemptAtMs = nowMs() + delay;
    detail.insert("next_attempt_at", QtCompat::isoUtc(m_nextAttemptAtMs));
    c.progress("attempt_failed", detail);
    qCWarning(lcForward, "delivery %s: attempt %d failed (%s); next in %lld ms",
              qPrintable(c.delivery.id), c.attempts, qPrintable(error), delay);
    m_retryTimer.start(int(qMin<qint64>(delay, std::numeric_limits<int>::max())));
}

void Forwarder::finish(const Outcome &outcome)
{
    Done done = std::move(m_current->done);
    m_current.reset();
    m_nextAttemptAtMs = 0;
    done(outcome);
}

ComponentHealth Forwarder::health(qint64 queue, qint64 oldestMs) const
{
    ComponentHealth h;
    const qint64 now = nowMs();
    const qint64 oldestAge = oldestMs > 0 ? (now - oldestMs) / 1000 : 0;
    h.fields.insert("runner_url", m_settings.runnerUrl);
    h.fields.insert("queue", queue);
    h.fields.insert("oldest_undelivered_age_s", oldestAge);
    h.fields.insert("last_error", m_lastError.isEmpty() ? QJsonValue() : QJsonValue(m_lastError));
    h.fields.insert("next_attempt_at", m_nextAttemptAtMs > 0
                                           ? QJsonValue(QtCompat::isoUtc(m_nextAttemptAtMs))
                                           : QJsonValue());
    h.fields.insert("attempts", m_current ? m_current->attempts : 0);
    if (m_lastSuccessAtMs > 0)
        h.fields.insert("last_success_at", QtCompat::isoUtc(m_lastSuccessAtMs));
    if (queue > 0 && oldestAge * 1000 > m_settings.failingAgeMs) {
        h.status = Health::Failing;
        h.message =
            QStringLiteral("the oldest undelivered delivery is %1 s old: %2")
                .arg(oldestAge)
                .arg(m_lastError.isEmpty() ? QStringLiteral("the runner is slow") : m_lastError);
    } else if (!m_lastError.isEmpty()) {
        h.status = Health::Degraded;
        h.message = m_lastError;
        h.fields.insert("unreachable_for_s", (now - m_lastErrorAtMs) / 1000);
    }
    return h;
}
