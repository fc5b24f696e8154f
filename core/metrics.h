#pragma once
// Counters and histograms for GET /metrics, in the Prometheus text format (checked by
// `promtool check metrics` in the tests). Plain values updated by the engine; no locking, since
// everything that records runs on the main thread.

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMap>
#include <QString>

class Histogram
{
public:
    explicit Histogram(QList<double> bounds)
        : m_bounds(std::move(bounds)), m_counts(m_bounds.size(), 0)
    {}
    void observe(double value);
    void write(QByteArray &out, const QByteArray &name, const QByteArray &help) const;

private:
    QList<double> m_bounds;
    QList<quint64> m_counts; // per bucket, not cumulative
    quint64 m_count = 0;
    double m_sum = 0;
};

class Metrics
{
public:
    Metrics();

    void deliveryFinished(const QString &status, double applyMs);
    // An intake request answered with this status (a ?wait answer: the status it finally got).
    void intakeAnswered(int httpStatus);
    // A new delivery durable in the journal, this long after its request was read.
    void intakeJournaled(double intakeMs);
    void requestRejected(const QString &reason);
    void forwardAttempt(const QString &result);
    // One group commit of `deliveries` intake requests.
    void intakeBatch(qsizetype deliveries);
    // One flush of the journal to disk, covering the group commits made before it.
    void journalSynced(bool ok);

    struct Gauges
    {
        qint64 queueDepth = 0;
        qint64 pending = 0;
        qint64 oldestPendingAgeS = 0;
        int health = 0; // 0 ok, 1 degraded, 2 failing
        bool paused = false;
        qint64 uptimeS = 0;
        QHash<QString, qint64> journalByStatus;
        qint64 openConnections = 0;
    };
    QByteArray render(const QString &version, const QString &role, const Gauges &g) const;

private:
    QMap<QString, quint64> m_deliveries;
    QMap<int, quint64> m_intake;
    QMap<QString, quint64> m_rejected;
    QMap<QString, quint64> m_forwards;
    quint64 m_intakeCommits = 0;
    quint64 m_intakeCommitted = 0;
    quint64 m_syncs = 0;
    quint64 m_syncsFailed = 0;
    Histogram m_intakeSeconds;
    Histogram m_applySeconds;
};
