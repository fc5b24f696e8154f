#pragma once
// The relay's DeliverySink: forwards each delivery to the runner's /patch, signed, and waits for
// the runner's final outcome (in the answer, or later from GET /deliveries/{id}). Failures are
// retried per RetryPolicy (backoff with full jitter, Retry-After honoured, connect and request
// timeouts, redirects never followed) until the budget runs out and the delivery is dead. Every
// attempt lands in the delivery's timeline; the last error and the next attempt in /health.

#include "deliverysink.h"
#include "healthreport.h"
#include "retrypolicy.h"

#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <optional>

class Metrics;
class QNetworkReply;

class Forwarder final : public QObject, public DeliverySink
{
    Q_OBJECT
public:
    struct Settings
    {
        QString runnerUrl; // without the trailing /patch
        QByteArray secret;
        RetryPolicy::Settings retry;
        int connectTimeoutMs = 5000;
        int requestTimeoutMs = 60000;
        int waitSeconds = 20;         // ?wait= asked of the runner
        qint64 failingAgeMs = 300000; // oldest undelivered older than this: failing
    };

    Forwarder(Settings settings, Metrics *metrics, QObject *parent = nullptr);
    ~Forwarder() override;

    void setSettings(const Settings &settings) { m_settings = settings; }
    const Settings &settings() const { return m_settings; }

    QString activeStatus() const override { return QStringLiteral("forwarding"); }
    void deliver(const Delivery &delivery, const QByteArray &body, Progress progress,
                 Done done) override;
    // Safe at any point: the runner deduplicates by delivery id, so a resumed forward after a
    // restart cannot apply the patch twice.
    bool abandon() override;

    // The forwarder component of /health. queue: unfinished deliveries; oldestMs: receipt
    // time of the oldest one (0 if none).
    ComponentHealth health(qint64 queue, qint64 oldestMs) const;
    QString lastError() const { return m_lastError; }

private:
    struct Current
    {
        Delivery delivery;
        QByteArray body;
        Progress progress;
        Done done;
        int attempts = 0;
        bool polling = false; // the runner has it; we are asking for the outcome
    };

    void attempt();
    void onFinished(QNetworkReply *reply);
    void retryLater(const QString &result, const QString &error, int httpStatus,
                    qint64 retryAfterMs);
    void finish(const struct Outcome &outcome);
    QString postUrl() const;

    Settings m_settings;
    Metrics *m_metrics;
    RetryPolicy m_policy;
    QNetworkAccessManager m_nam;
    QTimer m_retryTimer;
    QTimer m_requestTimer;
    QPointer<QNetworkReply> m_reply;
    std::optional<Current> m_current;
    QString m_lastError;
    qint64 m_lastErrorAtMs = 0;
    qint64 m_nextAttemptAtMs = 0;
    qint64 m_lastSuccessAtMs = 0;
};
