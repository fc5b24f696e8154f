#include "deliveryjournal.h"

#include "disksync.h"
#include "faultinjection.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <fcntl.h>
#include <unistd.h>

namespace {
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QString jsonText(const QJsonObject &o)
{
    return o.isEmpty() ? QString()
                       : QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// A time-ordered UUID (version 7, RFC 9562): 48 bits of Unix milliseconds, then random bits.
// New ids sort after older ones, so each commit adds to the last page of the id index instead
// of dirtying one random page per delivery.
QString newDeliveryId(qint64 ms)
{
    QByteArray b(16, '\0');
    const quint64 rnd1 = QRandomGenerator::global()->generate64();
    const quint64 rnd2 = QRandomGenerator::global()->generate64();
    for (int i = 0; i < 6; ++i)
        b[i] = char((quint64(ms) >> (8 * (5 - i))) & 0xff);
    for (int i = 6; i < 16; ++i)
        b[i] = char(((i < 14 ? rnd1 : rnd2) >> (8 * (i % 8))) & 0xff);
    b[6] = char(0x70 | (b[6] & 0x0f)); // version 7
    b[8] = char(0x80 | (b[8] & 0x3f)); // variant 10
    return QUuid::fromRfc4122(b).toString(QUuid::WithoutBraces);
}

QJsonObject parseJson(const QString &s)
{
    return s.isEmpty() ? QJsonObject() : QJsonDocument::fromJson(s.toUtf8()).object();
}

#define GR_COLUMNS                                                                                 \
    "seq, id, patch_id, format, status, dedupe_key, replay_of, source, received_at, "              \
    "finished_at, attempts, next_attempt_at, outcome, journaled_at"
const char *kColumns = GR_COLUMNS;
// One delivery by a condition, with its body hash (column 14) for the dedupe checks.
#define GR_SELECT_EXISTING "SELECT " GR_COLUMNS ", body_hash FROM deliveries WHERE "
#define GR_PROBE "SELECT seq FROM deliveries WHERE "

Delivery fromRow(const QSqlQuery &q)
{
    Delivery d;
    d.seq = q.value(0).toLongLong();
    d.id = q.value(1).toString();
    d.patchId = q.value(2).toString();
    d.format = q.value(3).toString();
    d.status = q.value(4).toString();
    d.dedupeKey = q.value(5).toString();
    d.replayOf = q.value(6).toString();
    d.source = q.value(7).toString();
    d.receivedAtMs = q.value(8).toLongLong();
    d.finishedAtMs = q.value(9).toLongLong();
    d.attempts = q.value(10).toInt();
    d.nextAttemptAtMs = q.value(11).toLongLong();
    d.outcome = Outcome::fromJson(parseJson(q.value(12).toString()));
    d.journaledAtMs = q.value(13).toLongLong();
    return d;
}
} // namespace

DeliveryJournal::DeliveryJournal()
    : m_connection(QStringLiteral("gr-journal-%1").arg(quintptr(this), 0, 16))
{}

DeliveryJournal::~DeliveryJournal()
{
    if (m_walFd >= 0)
        ::close(m_walFd);
    m_statements.clear(); // before the connection goes
    {
        QSqlDatabase d = QSqlDatabase::database(m_connection, false);
        if (d.isOpen())
            d.close();
    }
    QSqlDatabase::removeDatabase(m_connection);
}

QSqlDatabase DeliveryJournal::db() const
{
    return QSqlDatabase::database(m_connection, false);
}

QSqlQuery &DeliveryJournal::statement(const char *sql) const
{
    auto it = m_statements.find(sql);
    if (it == m_statements.end()) {
        QSqlQuery q(db());
        q.setForwardOnly(true);
        q.prepare(QString::fromLatin1(sql)); // a failure shows when it runs
        it = m_statements.insert(sql, q);
    }
    return *it;
}

bool DeliveryJournal::run(QSqlQuery &q, const QVariantList &values) const
{
    for (int i = 0; i < values.size(); ++i)
        q.bindValue(i, values.at(i));
    return q.exec();
}

void DeliveryJournal::setDurable(bool full)
{
    if (m_fullSync == full)
        return;
    // Outside any transaction; takes effect from the next commit on this connection.
    if (run(statement(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"), {}))
        m_fullSync = full;
}

bool DeliveryJournal::beginWrite(QString *error)
{
    QSqlQuery &q = statement("BEGIN IMMEDIATE");
    if (run(q, {}))
        return true;
    *error = q.lastError().text();
    return false;
}

bool DeliveryJournal::commitWrite(QString *error)
{
    QSqlQuery &q = statement("COMMIT");
    if (run(q, {}))
        return true;
    *error = q.lastError().text();
    rollbackWrite();
    return false;
}

void DeliveryJournal::rollbackWrite()
{
    run(statement("ROLLBACK"), {});
}

void DeliveryJournal::releaseMemory()
{
    QSqlQuery &q = statement("PRAGMA shrink_memory");
    run(q, {});
    q.finish();
}

bool DeliveryJournal::isOpen() const
{
    return db().isOpen();
}

Status DeliveryJournal::fail(const QString &what, const QString &sqlError)
{
    m_lastError = QStringLiteral("%1: %2").arg(what, sqlError);
    return makeError("journal_failed", m_lastError);
}

Status DeliveryJournal::open(const QString &path)
{
    m_path = path;
    QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    if (!d.isValid())
        return fail("cannot load the SQLite driver (install libqt6sql6-sqlite)",
                    d.lastError().text());
    d.setDatabaseName(path);
    if (!d.open())
        return fail(QStringLiteral("cannot open the journal %1").arg(path), d.lastError().text());
    QSqlQuery q(d);
    const char *statements[] = {
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA busy_timeout=5000",
        "PRAGMA foreign_keys=ON",
        // 256 KiB of page cache (SQLite's default is 2 MiB): the operating system caches the file
        // as well, and the daemon's memory stays flat as the journal grows.
        "PRAGMA cache_size=-256",
        "CREATE TABLE IF NOT EXISTS deliveries ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " id TEXT NOT NULL UNIQUE,"
        " patch_id TEXT NOT NULL,"
        " body_hash TEXT NOT NULL,"
        " dedupe_key TEXT,"
        " format TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " replay_of TEXT,"
        " source TEXT,"
        " received_at INTEGER NOT NULL,"
        " finished_at INTEGER,"
        " attempts INTEGER NOT NULL DEFAULT 0,"
        " next_attempt_at INTEGER,"
        " outcome TEXT,"
        " body BLOB NOT NULL)",
        // A patch id names one delivery (replays aside): recordOne checks it inside the write
        // transaction, through deliveries_patch_seq, so no unique index is kept for it (each
        // index on a random key costs every intake a page write).
        "DROP INDEX IF EXISTS deliveries_patch_id",
        "CREATE UNIQUE INDEX IF NOT EXISTS deliveries_dedupe ON deliveries(dedupe_key)"
        " WHERE dedupe_key IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries(status, seq)",
        // GET /deliveries?id= (replays included, which the dedupe index above leaves out).
        "CREATE INDEX IF NOT EXISTS deliveries_patch_seq ON deliveries(patch_id, seq)",
        "CREATE TABLE IF NOT EXISTS events ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " delivery TEXT NOT NULL,"
        " at INTEGER NOT NULL,"
        " state TEXT NOT NULL,"
        " detail TEXT)",
        "CREATE INDEX IF NOT EXISTS events_delivery ON events(delivery, seq)",
    };
    for (const char *s : statements) {
        if (!q.exec(QString::fromLatin1(s)))
            return fail(QStringLiteral("cannot prepare the journal %1").arg(path),
                        q.lastError().text());
    }
    // The first two timeline events (received, journaled) live in the delivery's row, so that
    // intake writes no events row; journals from before this column keep them as events rows.
    if (!q.exec(QStringLiteral("SELECT journaled_at FROM deliveries LIMIT 0")) &&
        !q.exec(QStringLiteral("ALTER TABLE deliveries ADD COLUMN journaled_at INTEGER")))
        return fail(QStringLiteral("cannot prepare the journal %1").arg(path),
                    q.lastError().text());
    m_fullSync = true;
    if (!q.exec(QStringLiteral("SELECT COUNT(*) FROM deliveries WHERE status IN "
                               "('queued','applying','forwarding')")) ||
        !q.next())
        return fail(QStringLiteral("cannot read the journal %1").arg(path), q.lastError().text());
    m_pending = q.value(0).toLongLong();
    if (!q.exec(QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM deliveries")) || !q.next())
        return fail(QStringLiteral("cannot read the journal %1").arg(path), q.lastError().text());
    m_durableSeq = m_committedSeq = q.value(0).toLongLong(); // what is on disk is all there is
    m_lastError.clear();
    return {};
}

Status DeliveryJournal::syncWal() const
{
    if (FaultInjection::fails("journal-sync"))
        return makeError("journal_failed", "the flush failed (fault injected at journal-sync)");
    if (m_walFd < 0)
        return makeError("journal_failed", "its write-ahead log is not open");
    if (!flushToDisk(m_walFd))
        return makeError("journal_failed", qt_error_string(errno));
    return {};
}

void DeliveryJournal::markDurable(qint64 seq)
{
    m_durableSeq = qMax(m_durableSeq, seq);
}

Status DeliveryJournal::discard(const QList<qint64> &seqs)
{
    if (seqs.isEmpty())
        return {};
    QString err;
    if (!beginWrite(&err))
        return fail("cannot begin a journal transaction", err);
    QSqlQuery &events =
        statement("DELETE FROM events WHERE delivery = (SELECT id FROM deliveries WHERE seq = ?)");
    QSqlQuery &row = statement("DELETE FROM deliveries WHERE seq = ? AND status IN "
                               "('queued','applying','forwarding')");
    qint64 removed = 0;
    for (const qint64 seq : seqs) {
        if (!run(events, {seq}) || !run(row, {seq})) {
            err = row.lastError().text();
            rollbackWrite();
            return fail("cannot take back deliveries that did not reach the disk", err);
        }
        removed += row.numRowsAffected();
    }
    if (!commitWrite(&err))
        return fail("cannot take back deliveries that did not reach the disk", err);
    m_pending -= removed;
    return {};
}

Result<RecordResult> DeliveryJournal::recordOne(const RecordRequest &r)
{
    struct Found
    {
        Delivery delivery;
        QByteArray bodyHash;
    };
    // Each check first asks for the seq alone (almost always: no row), and reads the whole
    // delivery only when there is one; the driver builds a record of every column a query
    // returns, on every run.
    auto existing = [&](const char *probeSql,
                        const QString &value) -> Result<std::optional<Found>> {
        QSqlQuery &probe = statement(probeSql);
        if (!run(probe, {value}))
            return fail("cannot read the journal", probe.lastError().text()).error();
        const bool any = probe.next();
        const qint64 seq = any ? probe.value(0).toLongLong() : 0;
        probe.finish();
        if (!any)
            return std::optional<Found>();
        QSqlQuery &q = statement(GR_SELECT_EXISTING "seq = ?");
        if (!run(q, {seq}))
            return fail("cannot read the journal", q.lastError().text()).error();
        std::optional<Found> found;
        if (q.next())
            found = Found{fromRow(q), q.value(14).toByteArray()};
        q.finish();
        return found;
    };
    if (!r.dedupeKey.isEmpty()) {
        const auto byKey = existing(GR_PROBE "dedupe_key = ?", r.dedupeKey);
        if (!byKey.ok())
            return byKey.error();
        if (byKey->has_value())
            return RecordResult{(*byKey)->delivery, true};
    }
    if (r.replayOf.isEmpty()) {
        const auto byId =
            existing(GR_PROBE "patch_id = ? AND replay_of IS NULL LIMIT 1", r.patchId);
        if (!byId.ok())
            return byId.error();
        if (byId->has_value()) {
            const Found &found = **byId;
            if (found.bodyHash != r.bodyHash)
                return makeError("conflict",
                                 QStringLiteral("patch id \"%1\" was already delivered with a "
                                                "different body (delivery %2); give the new "
                                                "patch a new id")
                                     .arg(r.patchId, found.delivery.id));
            return RecordResult{found.delivery, true};
        }
    }
    // A given delivery id (a relay's) names one delivery; another patch cannot take it over.
    if (!r.deliveryId.isEmpty()) {
        const auto byDeliveryId = existing(GR_PROBE "id = ?", r.deliveryId);
        if (!byDeliveryId.ok())
            return byDeliveryId.error();
        if (byDeliveryId->has_value())
            return makeError("conflict",
                             QStringLiteral("delivery id %1 already names patch \"%2\"; a "
                                            "different patch cannot reuse it")
                                 .arg(r.deliveryId, (*byDeliveryId)->delivery.patchId));
    }

    Delivery del;
    del.id = r.deliveryId.isEmpty() ? newDeliveryId(nowMs()) : r.deliveryId;
    del.patchId = r.patchId;
    del.format = r.format;
    del.status = QStringLiteral("queued");
    del.dedupeKey = r.dedupeKey;
    del.replayOf = r.replayOf;
    del.source = r.source;
    del.receivedAtMs = r.receivedAtMs > 0 ? r.receivedAtMs : nowMs();
    const qint64 journaledAt = nowMs();
    const QVariant null{QMetaType(QMetaType::QString)};
    QSqlQuery &q = statement(
        "INSERT INTO deliveries (id, patch_id, body_hash, dedupe_key, format, status, replay_of,"
        " source, received_at, journaled_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!run(q, {del.id, del.patchId, QString::fromLatin1(r.bodyHash),
                 r.dedupeKey.isEmpty() ? null : QVariant(r.dedupeKey), del.format, del.status,
                 r.replayOf.isEmpty() ? null : QVariant(r.replayOf), r.source, del.receivedAtMs,
                 journaledAt, r.body}))
        return fail("cannot commit the delivery to the journal", q.lastError().text()).error();
    del.seq = q.lastInsertId().toLongLong();
    del.events = {{del.receivedAtMs, "received", {}}, {journaledAt, "journaled", {}}};
    return RecordResult{del, false};
}

Result<RecordResult> DeliveryJournal::record(const RecordRequest &request)
{
    return recordBatch({request}).first();
}

QList<Result<RecordResult>> DeliveryJournal::recordBatch(const QList<RecordRequest> &requests,
                                                         Durability durability)
{
    QList<Result<RecordResult>> results;
    results.reserve(requests.size());
    const auto failAll = [&](const QString &what, const QString &sqlError) {
        const Error e = fail(what, sqlError).error();
        QList<Result<RecordResult>> failed;
        for (qsizetype i = 0; i < requests.size(); ++i)
            failed.append(e);
        return failed;
    };
    // A 202 means on disk: synced by this commit, or by the caller's syncWal() after it.
    setDurable(durability == Durability::Synced);
    QString err;
    if (!beginWrite(&err))
        return failAll("cannot begin a journal transaction", err);
    // One transaction, one fsync, for every delivery that arrived together (group commit). A
    // savepoint per delivery keeps one bad insert from taking its neighbours with it, and a
    // later request in the batch sees the earlier ones, so duplicates within it are found.
    QSqlQuery &savepoint = statement("SAVEPOINT one");
    QSqlQuery &release = statement("RELEASE one");
    QSqlQuery &rollbackTo = statement("ROLLBACK TO one");
    qint64 added = 0;
    for (const RecordRequest &r : requests) {
        if (!run(savepoint, {})) {
            err = savepoint.lastError().text();
            rollbackWrite();
            return failAll("cannot begin a journal savepoint", err);
        }
        Result<RecordResult> one = recordOne(r);
        if (!one.ok())
            run(rollbackTo, {});
        run(release, {});
        if (one.ok() && !one->duplicate)
            ++added;
        results.append(std::move(one));
    }
    if (!commitWrite(&err))
        return failAll("cannot commit the delivery to the journal", err);
    m_pending += added;
    for (const auto &r : results) {
        if (r.ok() && !r->duplicate)
            m_committedSeq = qMax(m_committedSeq, r->delivery.seq);
    }
    if (durability == Durability::Synced)
        markDurable(m_committedSeq);
    else if (m_walFd < 0) // the log exists once something is committed
        m_walFd = ::open(QFile::encodeName(m_path + QStringLiteral("-wal")).constData(),
                         O_RDONLY | O_CLOEXEC);
    bool anyFailed = false;
    for (const auto &r : results)
        anyFailed = anyFailed || (!r.ok() && r.error().code != QLatin1String("conflict"));
    if (!anyFailed)
        m_lastError.clear();
    return results;
}

Status DeliveryJournal::addEvent(const QString &id, const QString &state, const QJsonObject &detail)
{
    setDurable(false); // outside a transaction: a timeline event of its own
    QSqlQuery &q =
        statement("INSERT INTO events (delivery, at, state, detail) VALUES (?, ?, ?, ?)");
    if (!run(q, {id, nowMs(), state, jsonText(detail)}))
        return fail("cannot add to the delivery timeline", q.lastError().text());
    return {};
}

Status DeliveryJournal::updateWithEvent(const QString &id, const QString &sql,
                                        const QVariantList &values, const QString &failure,
                                        const QString &event, const QJsonObject &detail)
{
    // One transaction: the row's new state and its timeline event land together or not at all.
    // NORMAL sync (see the header): ordered and atomic, on disk with the next FULL commit.
    setDurable(false);
    QString err;
    if (!beginWrite(&err))
        return fail(failure, err);
    QSqlQuery &before = statement("SELECT status FROM deliveries WHERE id = ?");
    if (!run(before, {id})) {
        rollbackWrite();
        return fail(failure, before.lastError().text());
    }
    if (!before.next()) {
        before.finish();
        rollbackWrite();
        return makeError("not_found", QStringLiteral("no delivery %1").arg(id));
    }
    const bool wasPending = !Delivery::isFinalStatus(before.value(0).toString());
    before.finish();
    QSqlQuery q(db());
    q.prepare(sql);
    for (const QVariant &v : values)
        q.addBindValue(v);
    q.addBindValue(id);
    if (!q.exec()) {
        rollbackWrite();
        return fail(failure, q.lastError().text());
    }
    QSqlQuery &ev =
        statement("INSERT INTO events (delivery, at, state, detail) VALUES (?, ?, ?, ?)");
    if (!run(ev, {id, nowMs(), event, jsonText(detail)})) {
        err = ev.lastError().text();
        rollbackWrite();
        return fail("cannot add to the delivery timeline", err);
    }
    if (!commitWrite(&err))
        return fail(QStringLiteral("cannot commit to the journal"), err);
    QSqlQuery &after = statement("SELECT status FROM deliveries WHERE id = ?");
    if (run(after, {id}) && after.next()) {
        const bool isPending = !Delivery::isFinalStatus(after.value(0).toString());
        m_pending += int(isPending) - int(wasPending);
    }
    after.finish();
    return {};
}

Status DeliveryJournal::setStatus(const QString &id, const QString &status, const QString &event,
                                  const QJsonObject &detail)
{
    return updateWithEvent(id, QStringLiteral("UPDATE deliveries SET status = ? WHERE id = ?"),
                           {status}, QStringLiteral("cannot update the delivery"),
                           event.isEmpty() ? status : event, detail);
}

Status DeliveryJournal::finish(const QString &id, const Outcome &outcome)
{
    QJsonObject detail;
    if (!outcome.error.isNull())
        detail.insert("error", outcome.error.toJson());
    return updateWithEvent(
        id,
        QStringLiteral(
            "UPDATE deliveries SET status = ?, finished_at = ?, outcome = ? WHERE id = ?"),
        {outcome.status, nowMs(), jsonText(outcome.toJson())},
        QStringLiteral("cannot record the outcome"), outcome.status, detail);
}

Status DeliveryJournal::scheduleAttempt(const QString &id, int attempts, qint64 nextAttemptAtMs)
{
    setDurable(false);
    QSqlQuery &q =
        statement("UPDATE deliveries SET attempts = ?, next_attempt_at = ? WHERE id = ?");
    if (!run(q, {attempts, nextAttemptAtMs, id}))
        return fail("cannot schedule a retry", q.lastError().text());
    return {};
}

Result<Delivery> DeliveryJournal::find(const QString &id, bool withTimeline) const
{
    QSqlQuery &q = statement(GR_SELECT_EXISTING "id = ?");
    if (!run(q, {id}))
        return makeError("journal_failed", q.lastError().text());
    if (!q.next()) {
        q.finish();
        return makeError("not_found", QStringLiteral("no delivery %1").arg(id));
    }
    Delivery d = fromRow(q);
    q.finish();
    if (withTimeline) {
        // The first two events are in the row (journals from before journaled_at have them as
        // events rows instead).
        if (d.journaledAtMs > 0)
            d.events = {{d.receivedAtMs, QStringLiteral("received"), {}},
                        {d.journaledAtMs, QStringLiteral("journaled"), {}}};
        QSqlQuery &ev =
            statement("SELECT at, state, detail FROM events WHERE delivery = ? ORDER BY seq");
        if (run(ev, {id})) {
            while (ev.next())
                d.events.append({ev.value(0).toLongLong(), ev.value(1).toString(),
                                 parseJson(ev.value(2).toString())});
        }
        ev.finish();
    }
    return d;
}

Result<QList<Delivery>> DeliveryJournal::list(const DeliveryFilter &f) const
{
    QStringList where;
    QVariantList binds;
    if (!f.status.isEmpty()) {
        where << "status = ?";
        binds << f.status;
    }
    if (!f.patchId.isEmpty()) {
        where << "patch_id = ?";
        binds << f.patchId;
    }
    if (f.sinceMs > 0) {
        where << "received_at >= ?";
        binds << f.sinceMs;
    }
    if (f.untilMs > 0) {
        where << "received_at < ?";
        binds << f.untilMs;
    }
    if (f.beforeSeq > 0) {
        where << "seq < ?";
        binds << f.beforeSeq;
    }
    QSqlQuery q(db());
    q.prepare(QStringLiteral("SELECT %1 FROM deliveries %2 ORDER BY seq DESC LIMIT %3")
                  .arg(QLatin1String(kColumns),
                       where.isEmpty() ? QString() : "WHERE " + where.join(" AND "))
                  .arg(qBound(1, f.limit, 1000)));
    for (const QVariant &b : binds)
        q.addBindValue(b);
    if (!q.exec())
        return makeError("journal_failed", q.lastError().text());
    QList<Delivery> out;
    while (q.next())
        out.append(fromRow(q));
    return out;
}

Result<QList<Delivery>> DeliveryJournal::withStatus(const char *statuses) const
{
    QSqlQuery q(db());
    q.prepare(QStringLiteral("SELECT %1 FROM deliveries WHERE status IN (%2) ORDER BY seq")
                  .arg(QLatin1String(kColumns), QLatin1String(statuses)));
    if (!q.exec())
        return makeError("journal_failed", q.lastError().text());
    QList<Delivery> out;
    while (q.next())
        out.append(fromRow(q));
    return out;
}

Result<QList<Delivery>> DeliveryJournal::pending() const
{
    return withStatus("'queued','applying','forwarding'");
}

Result<QList<Delivery>> DeliveryJournal::inProgress() const
{
    return withStatus("'applying','forwarding'");
}

Result<QList<DeliveryJournal::QueuedRef>> DeliveryJournal::queuedAfter(qint64 afterSeq, int limit,
                                                                       qint64 upToSeq) const
{
    QSqlQuery &q = statement("SELECT seq, id, patch_id FROM deliveries WHERE status = 'queued'"
                             " AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?");
    if (!run(q, {afterSeq, upToSeq < 0 ? m_durableSeq : upToSeq, limit}))
        return makeError("journal_failed", q.lastError().text());
    QList<QueuedRef> out;
    while (q.next())
        out.append({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString()});
    q.finish();
    return out;
}

QByteArray DeliveryJournal::body(const QString &id) const
{
    QSqlQuery &q = statement("SELECT body FROM deliveries WHERE id = ?");
    QByteArray out;
    if (run(q, {id}) && q.next())
        out = q.value(0).toByteArray();
    q.finish();
    return out;
}

QHash<QString, qint64> DeliveryJournal::countsByStatus() const
{
    QHash<QString, qint64> out;
    QSqlQuery q(db());
    if (q.exec(QStringLiteral("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))) {
        while (q.next())
            out.insert(q.value(0).toString(), q.value(1).toLongLong());
    }
    return out;
}

qint64 DeliveryJournal::pendingCount() const
{
    return isOpen() ? m_pending : -1;
}

qint64 DeliveryJournal::oldestPendingReceivedMs() const
{
    QSqlQuery q(db());
    // The oldest pending delivery is the one with the lowest seq (both grow with intake); one
    // index lookup per status instead of a visit to every queued row.
    if (q.exec(
            QStringLiteral("SELECT received_at FROM deliveries WHERE seq = (SELECT MIN(s) FROM ("
                           "SELECT MIN(seq) AS s FROM deliveries WHERE status = 'queued' UNION ALL "
                           "SELECT MIN(seq) FROM deliveries WHERE status = 'applying' UNION ALL "
                           "SELECT MIN(seq) FROM deliveries WHERE status = 'forwarding'))")) &&
        q.next())
        return q.value(0).toLongLong();
    return 0;
}
