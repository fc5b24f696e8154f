#pragma once
// The only durable state: every delivery and its timeline in SQLite (WAL). Intake commits are
// synchronous=FULL: on disk before the caller answers 202. Later state changes (applying,
// forwarding, the outcome) commit with synchronous=NORMAL: atomic, in order, and on disk with
// the next intake commit or checkpoint. A power loss can take the newest of those back, never
// a delivery; recovery rebuilds them from the truths written before them (the fsynced
// confirmation line, the workspace's transaction record). Deduplicates on the patch id (same
// body: the existing delivery; different body: a conflict) and on sender delivery keys
// (webhook-id, X-GitHub-Delivery, a relay's delivery id). Lives on one thread: the one that
// opened it (syncWal() aside). Its hot statements are prepared once and kept.

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
    // The same for several requests in one transaction (group commit); one result per request,
    // in order. Later requests see earlier ones (a repeat within the batch is a duplicate).
    // Synced: on disk when it returns (one fsync). SyncLater: committed but not yet on disk, so
    // that the caller can read the next requests while the disk works: syncWal() then makes it
    // (and every commit before it) durable, and markDurable() lets the queue see it; until
    // then queuedAfter() does not return it unless asked. If the sync fails, discard() takes it
    // back (whatever its status by then).
    enum class Durability { Synced, SyncLater };
    QList<Result<RecordResult>> recordBatch(const QList<RecordRequest> &requests,
                                            Durability durability = Durability::Synced);
    // Flushes the write-ahead log to the disk: every commit made before the call is durable
    // once it returns ok; otherwise the error says why (the system's reason). Safe to call from
    // another thread (it touches only a file descriptor) while this one goes on committing.
    Status syncWal() const;
    // Deliveries up to `seq` are on disk: the queue may see them.
    void markDurable(qint64 seq);
    qint64 durableSeq() const { return m_durableSeq; }
    // The newest delivery committed by this instance (durable or not).
    qint64 committedSeq() const { return m_committedSeq; }
    // Removes deliveries whose commit never reached the disk (their sync failed), so that none
    // is applied without having been acknowledged.
    Status discard(const QList<qint64> &seqs);
    Status setStatus(const QString &id, const QString &status, const QString &event,
                     const QJsonObject &detail = {});
    Status addEvent(const QString &id, const QString &state, const QJsonObject &detail = {});
    Status finish(const QString &id, const Outcome &outcome);
    Status scheduleAttempt(const QString &id, int attempts, qint64 nextAttemptAtMs);

    Result<Delivery> find(const QString &id, bool withTimeline = true) const;
    Result<QList<Delivery>> list(const DeliveryFilter &filter) const;
    // Unfinished deliveries in order of receipt.
    Result<QList<Delivery>> pending() const;
    // Deliveries being applied or forwarded (not queued): what a crash interrupted.
    Result<QList<Delivery>> inProgress() const;
    // Queued deliveries after seq `afterSeq`, in order, at most `limit`: the dispatcher reads its
    // queue from here in pages, so a backlog stays on disk.
    struct QueuedRef
    {
        qint64 seq = 0;
        QString id;
        QString patchId;
    };
    // Only deliveries up to `upToSeq` (by default: those known to be on disk).
    Result<QList<QueuedRef>> queuedAfter(qint64 afterSeq, int limit, qint64 upToSeq = -1) const;
    QByteArray body(const QString &id) const;
    QHash<QString, qint64> countsByStatus() const;
    // Deliveries not finished yet (queued, applying, forwarding), kept in memory since open()
    // (this instance is the only writer); -1 when the journal is not open.
    qint64 pendingCount() const;
    qint64 oldestPendingReceivedMs() const;
    // The last storage error, or empty: /health reads it. noteFailure() records one found
    // outside the journal's own calls (a failed syncWal()); the next good commit clears it.
    QString lastError() const { return m_lastError; }
    void noteFailure(const QString &message) { m_lastError = message; }
    // Gives back the memory SQLite holds for this connection (its page cache), once idle.
    void releaseMemory();

private:
    Status fail(const QString &what, const QString &sqlError);
    // Deliveries whose status is in `statuses` (an SQL list of literals), in order of receipt.
    Result<QList<Delivery>> withStatus(const char *statuses) const;
    Result<RecordResult> recordOne(const RecordRequest &request);
    // Runs `sql` (values, then the id, bound in order) and adds a timeline event, atomically.
    Status updateWithEvent(const QString &id, const QString &sql, const QVariantList &values,
                           const QString &failure, const QString &event, const QJsonObject &detail);
    QSqlDatabase db() const;
    // A statement prepared once for this connection and kept; bound and run by run().
    QSqlQuery &statement(const char *sql) const;
    bool run(QSqlQuery &q, const QVariantList &values) const;
    void setDurable(bool full);
    // A write transaction. It takes the write lock first, waiting for it (busy_timeout): a
    // plain BEGIN that reads before it writes has to upgrade its read lock later, and SQLite
    // refuses that upgrade at once (SQLITE_BUSY, without waiting) whenever another connection
    // holds the write lock for a moment, as the archive's reader does while it re-reads a WAL
    // index that the writer is changing. On failure, *error says why.
    bool beginWrite(QString *error);
    bool commitWrite(QString *error); // rolls back when the commit fails
    void rollbackWrite();

    QString m_connection;
    QString m_path;
    mutable QString m_lastError;
    mutable QHash<const char *, QSqlQuery> m_statements;
    qint64 m_pending = -1;
    qint64 m_durableSeq = 0;   // the newest delivery known to be on disk
    qint64 m_committedSeq = 0; // the newest delivery committed
    int m_walFd = -1;          // the write-ahead log, for syncWal()
    bool m_fullSync = true;
};
