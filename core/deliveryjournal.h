#pragma once
// The only durable state: every delivery and its timeline in SQLite (WAL, synchronous=FULL, so
// a commit is on disk before the caller answers 202). Deduplicates on the patch id (same body:
// the existing delivery; different body: a conflict) and on sender delivery keys (webhook-id,
// X-GitHub-Delivery, a relay's delivery id). Lives on one thread: the one that opened it.

#include "delivery.h"
#include "result.h"

#include <QHash>
#include <QSqlDatabase>
#include <QString>
#include <QVariant>

struct RecordRequest
{
    QString patchId;
    QByteArray bodyHash;
    QString dedupeKey; // empty when the sender gave none
    QString format;
    QByteArray body;
    qint64 receivedAtMs = 0;
    QString replayOf;
    QString source;
    QString deliveryId; // empty: a new uuid
};

struct RecordResult
{
    Delivery delivery;
    bool duplicate = false; // an existing delivery answered for it
};

struct DeliveryFilter
{
    QString status;
    QString patchId;
    qint64 sinceMs = 0;
    qint64 untilMs = 0;
    qint64 beforeSeq = 0; // paging: only deliveries older than this seq
    int limit = 50;
};

class DeliveryJournal
{
public:
    DeliveryJournal();
    ~DeliveryJournal();
    DeliveryJournal(const DeliveryJournal &) = delete;
    DeliveryJournal &operator=(const DeliveryJournal &) = delete;

    Status open(const QString &path);
    bool isOpen() const;
    QString path() const { return m_path; }

    // Commits a new delivery, or finds the one it repeats. Errors: conflict (same id, other
    // body), journal_failed.
    Result<RecordResult> record(const RecordRequest &request);
    // The same for several requests in one transaction and one fsync (group commit); one result
    // per request, in order. Later requests see earlier ones (a repeat within the batch is a
    // duplicate).
    QList<Result<RecordResult>> recordBatch(const QList<RecordRequest> &requests);
    Status setStatus(const QString &id, const QString &status, const QString &event,
                     const QJsonObject &detail = {});
    Status addEvent(const QString &id, const QString &state, const QJsonObject &detail = {});
    Status finish(const QString &id, const Outcome &outcome);
    Status scheduleAttempt(const QString &id, int attempts, qint64 nextAttemptAtMs);

    Result<Delivery> find(const QString &id, bool withTimeline = true) const;
    Result<QList<Delivery>> list(const DeliveryFilter &filter) const;
    // Unfinished deliveries in order of receipt.
    Result<QList<Delivery>> pending() const;
    QByteArray body(const QString &id) const;
    QHash<QString, qint64> countsByStatus() const;
    // Deliveries not finished yet (queued, applying, forwarding); with cap > 0, at most cap.
    qint64 pendingCount(qint64 cap = -1) const;
    qint64 oldestPendingReceivedMs() const;
    // The last storage error, or empty: /health reads it.
    QString lastError() const { return m_lastError; }

private:
    Status fail(const QString &what, const QString &sqlError);
    Result<RecordResult> recordOne(QSqlDatabase &d, const RecordRequest &request);
    // Runs `sql` (values, then the id, bound in order) and adds a timeline event, atomically.
    Status updateWithEvent(const QString &id, const QString &sql, const QVariantList &values,
                           const QString &failure, const QString &event, const QJsonObject &detail);
    QSqlDatabase db() const;

    QString m_connection;
    QString m_path;
    mutable QString m_lastError;
};
