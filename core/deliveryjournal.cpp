#include "deliveryjournal.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

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

QJsonObject parseJson(const QString &s)
{
    return s.isEmpty() ? QJsonObject() : QJsonDocument::fromJson(s.toUtf8()).object();
}

const char *kColumns = "seq, id, patch_id, format, status, dedupe_key, replay_of, source, "
                       "received_at, finished_at, attempts, next_attempt_at, outcome";

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
    return d;
}
} // namespace

DeliveryJournal::DeliveryJournal()
    : m_connection(QStringLiteral("gr-journal-%1").arg(quintptr(this), 0, 16))
{}

DeliveryJournal::~DeliveryJournal()
{
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
        "CREATE UNIQUE INDEX IF NOT EXISTS deliveries_patch_id ON deliveries(patch_id)"
        " WHERE replay_of IS NULL",
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
    m_lastError.clear();
    return {};
}

Result<RecordResult> DeliveryJournal::recordOne(QSqlDatabase &d, const RecordRequest &r)
{
    struct Found
    {
        Delivery delivery;
        QByteArray bodyHash;
    };
    auto existing = [&](const char *where, const QString &value) -> Result<std::optional<Found>> {
        QSqlQuery q(d);
        q.prepare(QStringLiteral("SELECT %1, body_hash FROM deliveries WHERE %2")
                      .arg(QLatin1String(kColumns), QLatin1String(where)));
        q.addBindValue(value);
        if (!q.exec())
            return fail("cannot read the journal", q.lastError().text()).error();
        if (!q.next())
            return std::optional<Found>();
        return std::optional<Found>(Found{fromRow(q), q.value(13).toByteArray()});
    };
    if (!r.dedupeKey.isEmpty()) {
        const auto byKey = existing("dedupe_key = ?", r.dedupeKey);
        if (!byKey.ok())
            return byKey.error();
        if (byKey->has_value())
            return RecordResult{(*byKey)->delivery, true};
    }
    if (r.replayOf.isEmpty()) {
        const auto byId = existing("patch_id = ? AND replay_of IS NULL", r.patchId);
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
        const auto byDeliveryId = existing("id = ?", r.deliveryId);
        if (!byDeliveryId.ok())
            return byDeliveryId.error();
        if (byDeliveryId->has_value())
            return makeError("conflict",
                             QStringLiteral("delivery id %1 already names patch \"%2\"; a "
                                            "different patch cannot reuse it")
                                 .arg(r.deliveryId, (*byDeliveryId)->delivery.patchId));
    }

    Delivery del;
    del.id =
        r.deliveryId.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : r.deliveryId;
    del.patchId = r.patchId;
    del.format = r.format;
    del.status = QStringLiteral("queued");
    del.dedupeKey = r.dedupeKey;
    del.replayOf = r.replayOf;
    del.source = r.source;
    del.receivedAtMs = r.receivedAtMs > 0 ? r.receivedAtMs : nowMs();
    const qint64 journaledAt = nowMs();
    QSqlQuery q(d);
    q.prepare(QStringLiteral(
        "INSERT INTO deliveries (id, patch_id, body_hash, dedupe_key, format, status, replay_of,"
        " source, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(del.id);
    q.addBindValue(del.patchId);
    q.addBindValue(QString::fromLatin1(r.bodyHash));
    q.addBindValue(r.dedupeKey.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : r.dedupeKey);
    q.addBindValue(del.format);
    q.addBindValue(del.status);
    q.addBindValue(r.replayOf.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : r.replayOf);
    q.addBindValue(r.source);
    q.addBindValue(del.receivedAtMs);
    q.addBindValue(r.body);
    bool ok = q.exec();
    QString insertError;
    if (ok) {
        del.seq = q.lastInsertId().toLongLong();
        QSqlQuery ev(d);
        ev.prepare(QStringLiteral("INSERT INTO events (delivery, at, state, detail) VALUES "
                                  "(?, ?, ?, ?), (?, ?, ?, ?)"));
        for (const auto &[at, state] : {std::pair<qint64, QString>{del.receivedAtMs, "received"},
                                        {journaledAt, "journaled"}}) {
            ev.addBindValue(del.id);
            ev.addBindValue(at);
            ev.addBindValue(state);
            ev.addBindValue(QString());
        }
        ok = ev.exec();
        if (!ok)
            insertError = ev.lastError().text();
    } else {
        insertError = q.lastError().text();
    }
    if (!ok)
        return fail("cannot commit the delivery to the journal", insertError).error();
    del.events = {{del.receivedAtMs, "received", {}}, {journaledAt, "journaled", {}}};
    return RecordResult{del, false};
}

Result<RecordResult> DeliveryJournal::record(const RecordRequest &request)
{
    return recordBatch({request}).first();
}

QList<Result<RecordResult>> DeliveryJournal::recordBatch(const QList<RecordRequest> &requests)
{
    QSqlDatabase d = db();
    QList<Result<RecordResult>> results;
    results.reserve(requests.size());
    const auto failAll = [&](const QString &what, const QString &sqlError) {
        const Error e = fail(what, sqlError).error();
        QList<Result<RecordResult>> failed;
        for (qsizetype i = 0; i < requests.size(); ++i)
            failed.append(e);
        return failed;
    };
    if (!d.transaction())
        return failAll("cannot begin a journal transaction", d.lastError().text());
    // One transaction, one fsync, for every delivery that arrived together (group commit). A
    // savepoint per delivery keeps one bad insert from taking its neighbours with it, and a
    // later request in the batch sees the earlier ones, so duplicates within it are found.
    QSqlQuery sp(d);
    for (const RecordRequest &r : requests) {
        if (!sp.exec(QStringLiteral("SAVEPOINT one"))) {
            d.rollback();
            return failAll("cannot begin a journal savepoint", sp.lastError().text());
        }
        Result<RecordResult> one = recordOne(d, r);
        sp.exec(one.ok() ? QStringLiteral("RELEASE one") : QStringLiteral("ROLLBACK TO one"));
        if (!one.ok())
            sp.exec(QStringLiteral("RELEASE one"));
        results.append(std::move(one));
    }
    if (!d.commit()) {
        const QString err = d.lastError().text();
        d.rollback();
        return failAll("cannot commit the delivery to the journal", err);
    }
    bool anyFailed = false;
    for (const auto &r : results)
        anyFailed = anyFailed || (!r.ok() && r.error().code != QLatin1String("conflict"));
    if (!anyFailed)
        m_lastError.clear();
    return results;
}

Status DeliveryJournal::addEvent(const QString &id, const QString &state, const QJsonObject &detail)
{
    QSqlQuery q(db());
    q.prepare(
        QStringLiteral("INSERT INTO events (delivery, at, state, detail) VALUES (?, ?, ?, ?)"));
    q.addBindValue(id);
    q.addBindValue(nowMs());
    q.addBindValue(state);
    q.addBindValue(jsonText(detail));
    if (!q.exec())
        return fail("cannot add to the delivery timeline", q.lastError().text());
    return {};
}

Status DeliveryJournal::updateWithEvent(const QString &id, const QString &sql,
                                        const QVariantList &values, const QString &failure,
                                        const QString &event, const QJsonObject &detail)
{
    // One transaction: the row's new state and its timeline event land together or not at all.
    QSqlDatabase d = db();
    d.transaction();
    QSqlQuery q(d);
    q.prepare(sql);
    for (const QVariant &v : values)
        q.addBindValue(v);
    q.addBindValue(id);
    if (!q.exec()) {
        d.rollback();
        return fail(failure, q.lastError().text());
    }
    if (q.numRowsAffected() == 0) {
        d.rollback();
        return makeError("not_found", QStringLiteral("no delivery %1").arg(id));
    }
    if (Status s = addEvent(id, event, detail); !s.ok()) {
        d.rollback();
        return s;
    }
    if (!d.commit())
        return fail(QStringLiteral("cannot commit to the journal"), d.lastError().text());
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
    QSqlQuery q(db());
    q.prepare(
        QStringLiteral("UPDATE deliveries SET attempts = ?, next_attempt_at = ? WHERE id = ?"));
    q.addBindValue(attempts);
    q.addBindValue(nextAttemptAtMs);
    q.addBindValue(id);
    if (!q.exec())
        return fail("cannot schedule a retry", q.lastError().text());
    return {};
}

Result<Delivery> DeliveryJournal::find(const QString &id, bool withTimeline) const
{
    QSqlQuery q(db());
    q.prepare(
        QStringLiteral("SELECT %1 FROM deliveries WHERE id = ?").arg(QLatin1String(kColumns)));
    q.addBindValue(id);
    if (!q.exec())
        return makeError("journal_failed", q.lastError().text());
    if (!q.next())
        return makeError("not_found", QStringLiteral("no delivery %1").arg(id));
    Delivery d = fromRow(q);
    if (withTimeline) {
        QSqlQuery ev(db());
        ev.prepare(
            QStringLiteral("SELECT at, state, detail FROM events WHERE delivery = ? ORDER BY seq"));
        ev.addBindValue(id);
        if (ev.exec()) {
            while (ev.next())
                d.events.append({ev.value(0).toLongLong(), ev.value(1).toString(),
                                 parseJson(ev.value(2).toString())});
        }
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

Result<QList<Delivery>> DeliveryJournal::pending() const
{
    QSqlQuery q(db());
    q.prepare(QStringLiteral("SELECT %1 FROM deliveries WHERE status IN "
                             "('queued','applying','forwarding') ORDER BY seq")
                  .arg(QLatin1String(kColumns)));
    if (!q.exec())
        return makeError("journal_failed", q.lastError().text());
    QList<Delivery> out;
    while (q.next())
        out.append(fromRow(q));
    return out;
}

QByteArray DeliveryJournal::body(const QString &id) const
{
    QSqlQuery q(db());
    q.prepare(QStringLiteral("SELECT body FROM deliveries WHERE id = ?"));
    q.addBindValue(id);
    if (q.exec() && q.next())
        return q.value(0).toByteArray();
    return QByteArray();
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

qint64 DeliveryJournal::pendingCount(qint64 cap) const
{
    QSqlQuery q(db());
    // With a cap, counting stops there: the intake's queue bound needs no more, and a count of
    // a large backlog would otherwise read every queued row on every request.
    const QString pending = QStringLiteral("SELECT 1 FROM deliveries WHERE status IN "
                                           "('queued','applying','forwarding')");
    const QString sql =
        cap > 0 ? QStringLiteral("SELECT COUNT(*) FROM (%1 LIMIT %2)").arg(pending).arg(cap)
                : QStringLiteral("SELECT COUNT(*) FROM (%1)").arg(pending);
    if (q.exec(sql) && q.next())
        return q.value(0).toLongLong();
    m_lastError = q.lastError().text();
    return -1;
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
