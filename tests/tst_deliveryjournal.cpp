#include "deliveryjournal.h"
#include "testsupport.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace {
RecordRequest request(const QString &patchId, const QByteArray &hash = "h1",
                      const QString &dedupeKey = QString(), qint64 receivedAtMs = 0)
{
    RecordRequest r;
    r.patchId = patchId;
    r.bodyHash = hash;
    r.dedupeKey = dedupeKey;
    r.format = QStringLiteral("pattern");
    r.body = "{\"id\":\"" + patchId.toUtf8() + "\"}";
    r.receivedAtMs = receivedAtMs;
    r.source = QStringLiteral("open");
    return r;
}

QStringList states(const Delivery &d)
{
    QStringList out;
    for (const DeliveryEvent &e : d.events)
        out.append(e.state);
    return out;
}

QStringList patchIds(const QList<Delivery> &list)
{
    QStringList out;
    for (const Delivery &d : list)
        out.append(d.patchId);
    return out;
}

Outcome outcome(const QString &status)
{
    Outcome o;
    o.status = status;
    o.format = QStringLiteral("pattern");
    if (status != QLatin1String("applied"))
        o.error = makeError("no_match", "the pattern matches nothing");
    return o;
}
} // namespace

class tst_DeliveryJournal : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<DeliveryJournal> m_journal;
    int m_file = 0;

    QString journalPath() const { return m_dir.filePath(QStringLiteral("journal.sqlite")); }

    RecordResult recordOk(const RecordRequest &r)
    {
        const Result<RecordResult> res = m_journal->record(r);
        if (!res.ok())
            qWarning("record failed: %s", qPrintable(res.error().message));
        return res.ok() ? res.value() : RecordResult();
    }

    // The journal's own SQLite connection (PRAGMAs like synchronous are per connection).
    static QString journalConnection()
    {
        for (const QString &c : QSqlDatabase::connectionNames()) {
            if (c.startsWith(QLatin1String("gr-journal-")))
                return c;
        }
        return QString();
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QFile::remove(journalPath());
        QFile::remove(journalPath() + "-wal");
        QFile::remove(journalPath() + "-shm");
        m_journal = std::make_unique<DeliveryJournal>();
        const Status s = m_journal->open(journalPath());
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QVERIFY(m_journal->isOpen());
    }
    void cleanup() { m_journal.reset(); }

    void recordThenFindWithTimeline()
    {
        const Result<RecordResult> r = m_journal->record(request("p1", "h1", QString(), 1000));
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QVERIFY(!r->duplicate);
        QVERIFY(!r->delivery.id.isEmpty());
        QCOMPARE(r->delivery.status, QStringLiteral("queued"));
        QCOMPARE(states(r->delivery), QStringList({"received", "journaled"}));

        const Result<Delivery> d = m_journal->find(r->delivery.id);
        QVERIFY2(d.ok(), qPrintable(d.error().message));
        QCOMPARE(d->id, r->delivery.id);
        QCOMPARE(d->seq, r->delivery.seq);
        QCOMPARE(d->patchId, QStringLiteral("p1"));
        QCOMPARE(d->format, QStringLiteral("pattern"));
        QCOMPARE(d->status, QStringLiteral("queued"));
        QCOMPARE(d->source, QStringLiteral("open"));
        QCOMPARE(d->receivedAtMs, qint64(1000));
        QCOMPARE(states(*d), QStringList({"received", "journaled"}));
        QCOMPARE(d->events.first().atMs, qint64(1000));
        QVERIFY(d->events.last().atMs >= d->events.first().atMs);
        QCOMPARE(m_journal->body(d->id), QByteArray("{\"id\":\"p1\"}"));

        const Result<Delivery> bare = m_journal->find(r->delivery.id, false);
        QVERIFY(bare.ok());
        QVERIFY(bare->events.isEmpty());
    }

    void recordKeepsGivenDeliveryId()
    {
        RecordRequest r = request("p1");
        r.deliveryId = QStringLiteral("relay-delivery-1");
        QCOMPARE(recordOk(r).delivery.id, QStringLiteral("relay-delivery-1"));
        QVERIFY(m_journal->find("relay-delivery-1").ok());
    }

    void findUnknownIsNotFound()
    {
        const Result<Delivery> d = m_journal->find("no-such-delivery");
        QVERIFY(!d.ok());
        QCOMPARE(d.error().code, QStringLiteral("not_found"));
    }

    // Sequences of two records and what the second one answers.
    void dedupe_data()
    {
        QTest::addColumn<QString>("firstId");
        QTest::addColumn<QByteArray>("firstHash");
        QTest::addColumn<QString>("firstKey");
        QTest::addColumn<QString>("secondId");
        QTest::addColumn<QByteArray>("secondHash");
        QTest::addColumn<QString>("secondKey");
        QTest::addColumn<QString>("expected"); // new | duplicate | !code
        QTest::newRow("same id, same body") << "p1" << QByteArray("h1") << ""
                                            << "p1" << QByteArray("h1") << ""
                                            << "duplicate";
        QTest::newRow("same id, other body") << "p1" << QByteArray("h1") << ""
                                             << "p1" << QByteArray("h2") << ""
                                             << "!conflict";
        QTest::newRow("other id") << "p1" << QByteArray("h1") << ""
                                  << "p2" << QByteArray("h1") << ""
                                  << "new";
        QTest::newRow("same key, other id") << "p1" << QByteArray("h1") << "k1"
                                            << "p2" << QByteArray("h2") << "k1"
                                            << "duplicate";
        QTest::newRow("same key, same id, other body") << "p1" << QByteArray("h1") << "k1"
                                                       << "p1" << QByteArray("h2") << "k1"
                                                       << "duplicate";
        QTest::newRow("other key, same id, same body") << "p1" << QByteArray("h1") << "k1"
                                                       << "p1" << QByteArray("h1") << "k2"
                                                       << "duplicate";
        QTest::newRow("other key, same id, other body") << "p1" << QByteArray("h1") << "k1"
                                                        << "p1" << QByteArray("h2") << "k2"
                                                        << "!conflict";
        QTest::newRow("key then none, other id") << "p1" << QByteArray("h1") << "k1"
                                                 << "p2" << QByteArray("h2") << ""
                                                 << "new";
    }
    void recordBatchIsOneTransactionInOrder()
    {
        // A group commit: new deliveries, a repeat and a conflict within the same batch, and a
        // repeat of a delivery journaled before it.
        const RecordResult before = recordOk(request("old"));
        const QList<Result<RecordResult>> r =
            m_journal->recordBatch({request("a"), request("b"), request("a"),
                                    request("b", "other-hash"), request("old"), request("c")});
        QCOMPARE(r.size(), 6);
        QVERIFY(r[0].ok() && !r[0]->duplicate);
        QVERIFY(r[1].ok() && !r[1]->duplicate);
        QVERIFY(r[2].ok() && r[2]->duplicate);
        QCOMPARE(r[2]->delivery.id, r[0]->delivery.id);
        QVERIFY(!r[3].ok());
        QCOMPARE(r[3].error().code, QString("conflict"));
        QVERIFY(r[4].ok() && r[4]->duplicate);
        QCOMPARE(r[4]->delivery.id, before.delivery.id);
        QVERIFY(r[5].ok() && !r[5]->duplicate);
        // Receipt order survives: pending lists old, a, b, c.
        QStringList order;
        for (const Delivery &d : m_journal->pending().value())
            order << d.patchId;
        QCOMPARE(order, (QStringList{"old", "a", "b", "c"}));
        QVERIFY(m_journal->lastError().isEmpty());
        // And all of it is durable: a fresh connection sees it.
        const QString p = m_journal->path();
        m_journal.reset(new DeliveryJournal);
        QVERIFY(m_journal->open(p).ok());
        QCOMPARE(m_journal->pendingCount(), 4);
    }

    void dedupe()
    {
        QFETCH(QString, firstId);
        QFETCH(QByteArray, firstHash);
        QFETCH(QString, firstKey);
        QFETCH(QString, secondId);
        QFETCH(QByteArray, secondHash);
        QFETCH(QString, secondKey);
        QFETCH(QString, expected);
        const RecordResult first = recordOk(request(firstId, firstHash, firstKey));
        QVERIFY(!first.delivery.id.isEmpty());
        QVERIFY(!first.duplicate);
        const Result<RecordResult> second =
            m_journal->record(request(secondId, secondHash, secondKey));
        if (expected.startsWith('!')) {
            QVERIFY(!second.ok());
            QCOMPARE(second.error().code, expected.mid(1));
            QVERIFY2(second.error().message.contains(first.delivery.id),
                     qPrintable(second.error().message));
            QCOMPARE(m_journal->list({}).value().size(), 1);
        } else if (expected == QLatin1String("duplicate")) {
            QVERIFY2(second.ok(), qPrintable(second.error().message));
            QVERIFY(second->duplicate);
            QCOMPARE(second->delivery.id, first.delivery.id);
            QCOMPARE(second->delivery.patchId, firstId);
            QCOMPARE(m_journal->list({}).value().size(), 1);
        } else {
            QVERIFY2(second.ok(), qPrintable(second.error().message));
            QVERIFY(!second->duplicate);
            QVERIFY(second->delivery.id != first.delivery.id);
            QCOMPARE(m_journal->list({}).value().size(), 2);
        }
    }

    void replaysAreNotDedupedOnPatchId()
    {
        const RecordResult original = recordOk(request("p1"));
        RecordRequest replay = request("p1");
        replay.replayOf = original.delivery.id;
        const RecordResult r1 = recordOk(replay);
        const RecordResult r2 = recordOk(replay);
        QVERIFY(!r1.duplicate);
        QVERIFY(!r2.duplicate);
        QVERIFY(r1.delivery.id != original.delivery.id);
        QVERIFY(r2.delivery.id != r1.delivery.id);
        QCOMPARE(m_journal->find(r1.delivery.id)->replayOf, original.delivery.id);
        // A replay with another body is not a conflict either: it is a new run.
        replay.bodyHash = "h2";
        QVERIFY(m_journal->record(replay).ok());
        // The original still answers for a plain repeat.
        const RecordResult again = recordOk(request("p1"));
        QVERIFY(again.duplicate);
        QCOMPARE(again.delivery.id, original.delivery.id);
    }

    void statusEventsAndFinishBuildTheTimeline()
    {
        const QString id = recordOk(request("p1")).delivery.id;
        QVERIFY(m_journal->setStatus(id, "applying", "applying").ok());
        QCOMPARE(m_journal->find(id)->status, QStringLiteral("applying"));
        QVERIFY(m_journal->addEvent(id, "attempt", {{"n", 1}}).ok());
        QVERIFY(m_journal->setStatus(id, "queued", "resumed").ok());
        QVERIFY(m_journal->setStatus(id, "applying", QString()).ok()); // event defaults to status
        QVERIFY(m_journal->finish(id, outcome("failed")).ok());

        const Delivery d = m_journal->find(id).value();
        QCOMPARE(d.status, QStringLiteral("failed"));
        QVERIFY(d.isFinal());
        QVERIFY(d.finishedAtMs > 0);
        QCOMPARE(d.outcome.status, QStringLiteral("failed"));
        QCOMPARE(d.outcome.error.code, QStringLiteral("no_match"));
        QCOMPARE(states(d), QStringList({"received", "journaled", "applying", "attempt", "resumed",
                                         "applying", "failed"}));
        QCOMPARE(d.events.at(3).detail.value("n").toInt(), 1);
        QCOMPARE(d.events.last().detail.value("error").toObject().value("code").toString(),
                 QStringLiteral("no_match"));
        for (int i = 1; i < d.events.size(); ++i)
            QVERIFY(d.events.at(i).atMs >= d.events.at(i - 1).atMs);
    }

    // Runs `write` while another connection holds the journal's write lock for a moment, as
    // the archive's reader does while it re-reads a WAL index that the writer is changing.
    bool whileAnotherConnectionWrites(const std::function<bool()> &write)
    {
        std::atomic<bool> held{false};
        std::atomic<bool> failed{false};
        std::thread holder([&] {
            {
                QSqlDatabase other = QSqlDatabase::addDatabase("QSQLITE", "holder");
                other.setDatabaseName(journalPath());
                QSqlQuery q(other);
                if (!other.open() || !q.exec("BEGIN IMMEDIATE"))
                    failed = true;
                held = true;
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                q.exec("COMMIT");
            }
            QSqlDatabase::removeDatabase("holder");
        });
        while (!held)
            std::this_thread::yield();
        const bool ok = write();
        holder.join();
        return !failed && ok;
    }

    // The journal's write transactions read before they write (the dedupe checks, a status's
    // old value). They take the write lock first and wait for it; a plain BEGIN would have to
    // upgrade a read lock, which SQLite refuses at once with "database is locked".
    void writesWaitForAnotherConnectionsWriteLock()
    {
        const QString id = recordOk(request("first")).delivery.id;
        QVERIFY(whileAnotherConnectionWrites([&] {
            const auto results = m_journal->recordBatch({request("second"), request("third")},
                                                        DeliveryJournal::Durability::SyncLater);
            for (const auto &r : results) {
                if (!r.ok())
                    qWarning("record: %s", qPrintable(r.error().message));
            }
            return results.size() == 2 && results.at(0).ok() && results.at(1).ok();
        }));
        QVERIFY(whileAnotherConnectionWrites([&] {
            const Status s = m_journal->setStatus(id, "applying", "applying");
            if (!s.ok())
                qWarning("setStatus: %s", qPrintable(s.error().message));
            return s.ok();
        }));
        QVERIFY(whileAnotherConnectionWrites([&] {
            const Status s = m_journal->finish(id, outcome("applied"));
            if (!s.ok())
                qWarning("finish: %s", qPrintable(s.error().message));
            return s.ok();
        }));
        QCOMPARE(m_journal->find(id)->status, QStringLiteral("applied"));
        QCOMPARE(m_journal->pendingCount(), 2);
        QVERIFY(m_journal->lastError().isEmpty());
    }

    void updatesOfAnUnknownDeliveryFail()
    {
        recordOk(request("p1"));
        const Status set = m_journal->setStatus("no-such-delivery", "applying", "applying");
        QVERIFY(!set.ok());
        QCOMPARE(set.error().code, QStringLiteral("not_found"));
        const Status fin = m_journal->finish("no-such-delivery", outcome("applied"));
        QVERIFY(!fin.ok());
        QCOMPARE(fin.error().code, QStringLiteral("not_found"));
        // No orphan timeline rows, and the journal itself is still healthy.
        QSqlQuery q(QSqlDatabase::database(journalConnection(), false));
        QVERIFY(q.exec("SELECT COUNT(*) FROM events WHERE delivery = 'no-such-delivery'"));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toInt(), 0);
        QVERIFY(m_journal->lastError().isEmpty());
    }

    void scheduleAttempt()
    {
        const QString id = recordOk(request("p1")).delivery.id;
        QVERIFY(m_journal->scheduleAttempt(id, 3, 123456).ok());
        const Delivery d = m_journal->find(id, false).value();
        QCOMPARE(d.attempts, 3);
        QCOMPARE(d.nextAttemptAtMs, qint64(123456));
    }

    void list_data()
    {
        QTest::addColumn<QString>("status");
        QTest::addColumn<QString>("patchId");
        QTest::addColumn<qint64>("since");
        QTest::addColumn<qint64>("until");
        QTest::addColumn<QStringList>("expected"); // newest first
        // Fixture: a@1000 applied, b@2000 failed, c@3000 queued, d@4000 applied.
        QTest::newRow("all") << ""
                             << "" << qint64(0) << qint64(0) << QStringList({"d", "c", "b", "a"});
        QTest::newRow("applied") << "applied"
                                 << "" << qint64(0) << qint64(0) << QStringList({"d", "a"});
        QTest::newRow("failed") << "failed"
                                << "" << qint64(0) << qint64(0) << QStringList({"b"});
        QTest::newRow("queued") << "queued"
                                << "" << qint64(0) << qint64(0) << QStringList({"c"});
        QTest::newRow("dead: none") << "dead"
                                    << "" << qint64(0) << qint64(0) << QStringList();
        QTest::newRow("patch id") << ""
                                  << "b" << qint64(0) << qint64(0) << QStringList({"b"});
        QTest::newRow("since inclusive")
            << ""
            << "" << qint64(2000) << qint64(0) << QStringList({"d", "c", "b"});
        QTest::newRow("until exclusive")
            << ""
            << "" << qint64(0) << qint64(3000) << QStringList({"b", "a"});
        QTest::newRow("window") << ""
                                << "" << qint64(1500) << qint64(3500) << QStringList({"c", "b"});
        QTest::newRow("status and window") << "applied"
                                           << "" << qint64(1500) << qint64(0) << QStringList({"d"});
    }
    void list()
    {
        QFETCH(QString, status);
        QFETCH(QString, patchId);
        QFETCH(qint64, since);
        QFETCH(qint64, until);
        QFETCH(QStringList, expected);
        const QStringList finals{"applied", "failed", "", "applied"};
        for (int i = 0; i < 4; ++i) {
            const QString id =
                recordOk(request(QString(QChar('a' + i)), "h", QString(), 1000 * (i + 1)))
                    .delivery.id;
            QVERIFY(!id.isEmpty());
            if (!finals[i].isEmpty())
                QVERIFY(m_journal->finish(id, outcome(finals[i])).ok());
        }
        DeliveryFilter f;
        f.status = status;
        f.patchId = patchId;
        f.sinceMs = since;
        f.untilMs = until;
        const Result<QList<Delivery>> r = m_journal->list(f);
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(patchIds(*r), expected);
    }

    void listPagesWithBeforeSeq()
    {
        for (int i = 0; i < 7; ++i)
            recordOk(request(QStringLiteral("p%1").arg(i)));
        DeliveryFilter f;
        f.limit = 3;
        QStringList seen;
        QList<int> pageSizes;
        for (int page = 0; page < 5; ++page) {
            const QList<Delivery> list = m_journal->list(f).value();
            pageSizes.append(int(list.size()));
            if (list.isEmpty())
                break;
            seen += patchIds(list);
            f.beforeSeq = list.last().seq;
        }
        QCOMPARE(pageSizes, QList<int>({3, 3, 1, 0}));
        QCOMPARE(seen, QStringList({"p6", "p5", "p4", "p3", "p2", "p1", "p0"}));
    }

    void pendingInReceiptOrderAndCounts()
    {
        QCOMPARE(m_journal->pendingCount(), qint64(0));
        QCOMPARE(m_journal->oldestPendingReceivedMs(), qint64(0));
        QStringList ids;
        for (int i = 0; i < 5; ++i)
            ids.append(
                recordOk(request(QStringLiteral("p%1").arg(i), "h", QString(), 5000 + i * 10))
                    .delivery.id);
        QVERIFY(m_journal->finish(ids[0], outcome("applied")).ok());
        QVERIFY(m_journal->setStatus(ids[1], "applying", "applying").ok());
        QVERIFY(m_journal->setStatus(ids[2], "forwarding", "forwarding").ok());
        QVERIFY(m_journal->finish(ids[3], outcome("dead")).ok());

        const QList<Delivery> pending = m_journal->pending().value();
        QCOMPARE(patchIds(pending), QStringList({"p1", "p2", "p4"}));
        QCOMPARE(m_journal->pendingCount(), qint64(3));
        // The count is kept in memory: a duplicate adds nothing, a status change within the
        // unfinished ones changes nothing, and reopening recounts the same number.
        QVERIFY(m_journal->record(request("p2", "h")).value().duplicate);
        QVERIFY(m_journal->setStatus(ids[4], "applying", "applying").ok());
        QVERIFY(m_journal->setStatus(ids[4], "queued", "resumed").ok());
        QCOMPARE(m_journal->pendingCount(), qint64(3));
        m_journal = std::make_unique<DeliveryJournal>();
        QVERIFY(m_journal->open(journalPath()).ok());
        QCOMPARE(m_journal->pendingCount(), qint64(3));
        QCOMPARE(m_journal->oldestPendingReceivedMs(), qint64(5010));
        // The oldest is whichever pending status holds it: here "applying", then "forwarding".
        QVERIFY(m_journal->finish(ids[1], outcome("applied")).ok());
        QCOMPARE(m_journal->oldestPendingReceivedMs(), qint64(5020));
        QCOMPARE(m_journal->pendingCount(), qint64(2));
        QVERIFY(m_journal->setStatus(ids[1 + 1], "queued", "queued").ok());
        QCOMPARE(m_journal->oldestPendingReceivedMs(), qint64(5020));
        // The queue in pages, in order of receipt: queued only, after a given seq.
        const auto page = m_journal->queuedAfter(0, 1).value();
        QCOMPARE(page.size(), 1);
        QCOMPARE(page.first().patchId, QString("p2"));
        const auto rest = m_journal->queuedAfter(page.first().seq, 10).value();
        QCOMPARE(rest.size(), 1);
        QCOMPARE(rest.first().id, ids[4]);
        QVERIFY(m_journal->queuedAfter(rest.first().seq, 10).value().isEmpty());
        QCOMPARE(m_journal->inProgress().value().size(), 0);
        const QHash<QString, qint64> counts = m_journal->countsByStatus();
        QCOMPARE(counts.value("applied"), qint64(2));
        QCOMPARE(counts.value("dead"), qint64(1));
        QCOMPARE(counts.value("queued"), qint64(2));
        QCOMPARE(counts.size(), 3);
    }

    void survivesCloseAndReopen()
    {
        const RecordResult a = recordOk(request("p1", "h1", "key-1", 1000));
        const RecordResult b = recordOk(request("p2", "h2", QString(), 2000));
        QVERIFY(m_journal->setStatus(a.delivery.id, "applying", "applying").ok());
        QVERIFY(m_journal->finish(a.delivery.id, outcome("applied")).ok());
        const Delivery before = m_journal->find(a.delivery.id).value();
        m_journal.reset(); // closes the connection

        m_journal = std::make_unique<DeliveryJournal>();
        QVERIFY(m_journal->open(journalPath()).ok());
        const Delivery after = m_journal->find(a.delivery.id).value();
        QCOMPARE(after.status, QStringLiteral("applied"));
        QCOMPARE(after.dedupeKey, QStringLiteral("key-1"));
        QCOMPARE(after.finishedAtMs, before.finishedAtMs);
        QCOMPARE(states(after), states(before));
        QCOMPARE(after.outcome.status, QStringLiteral("applied"));
        QCOMPARE(patchIds(m_journal->pending().value()), QStringList({"p2"}));
        QCOMPARE(m_journal->body(b.delivery.id), QByteArray("{\"id\":\"p2\"}"));
        // Deduplication survives too.
        QVERIFY(recordOk(request("p9", "h9", "key-1")).duplicate);
        QCOMPARE(m_journal->record(request("p2", "other")).error().code,
                 QStringLiteral("conflict"));
        // New rows continue after the old ones.
        QVERIFY(recordOk(request("p3")).delivery.seq > b.delivery.seq);
    }

    // A commit whose flush is still to come is in the journal but not in the queue; a flush
    // that fails takes it back.
    void aCommitWaitingForItsFlushIsNotQueuedYet()
    {
        const RecordResult before = recordOk(request("p0"));
        const auto later = m_journal->recordBatch({request("p1"), request("p2")},
                                                  DeliveryJournal::Durability::SyncLater);
        QVERIFY(later.at(0).ok() && later.at(1).ok());
        QVERIFY(m_journal->find(later.at(0)->delivery.id).ok());
        QCOMPARE(m_journal->pendingCount(), 3);
        auto seqs = [this] {
            QList<qint64> out;
            for (const auto &ref : m_journal->queuedAfter(0, 10).value())
                out.append(ref.seq);
            return out;
        };
        QCOMPARE(seqs(), QList<qint64>{before.delivery.seq});
        QVERIFY(m_journal->syncWal().ok());
        m_journal->markDurable(later.at(1)->delivery.seq);
        QCOMPARE(seqs(), (QList<qint64>{before.delivery.seq, later.at(0)->delivery.seq,
                                        later.at(1)->delivery.seq}));

        const auto failed =
            m_journal->recordBatch({request("p3")}, DeliveryJournal::Durability::SyncLater);
        QVERIFY(failed.first().ok());
        QVERIFY(m_journal->discard({failed.first()->delivery.seq}).ok());
        QCOMPARE(m_journal->find(failed.first()->delivery.id).error().code,
                 QStringLiteral("not_found"));
        QCOMPARE(m_journal->pendingCount(), 3);
        // The patch id is free again: the sender's retry is a new delivery.
        QVERIFY(!recordOk(request("p3")).duplicate);
    }

    // Delivery ids are UUIDs of version 7: they sort in the order they were made, so the id
    // index grows at its end.
    void deliveryIdsAreTimeOrderedUuids()
    {
        QString previous;
        for (int i = 0; i < 50; ++i) {
            const QString id =
                recordOk(request(QStringLiteral("v%1").arg(i), "h", QString(), 1000 + i))
                    .delivery.id;
            QVERIFY2(!QUuid::fromString(id).isNull(), qPrintable(id));
            QCOMPARE(id.at(14), QChar('7'));                     // the version nibble
            QVERIFY(QStringLiteral("89ab").contains(id.at(19))); // the RFC variant
            QCOMPARE(id.size(), 36);
            QVERIFY2(id.left(13) >= previous.left(13), qPrintable(id + " after " + previous));
            previous = id;
        }
    }

    // A journal written before the received/journaled events moved into the delivery's row
    // (no journaled_at column; the two events as events rows) opens, gains the column, and
    // shows each event once.
    void aJournalFromBeforeTheJournaledColumnIsUpgraded()
    {
        const RecordResult old = recordOk(request("p1", "h1", QString(), 1000));
        m_journal.reset();
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "old-shape");
            db.setDatabaseName(journalPath());
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY2(q.exec("ALTER TABLE deliveries DROP COLUMN journaled_at"),
                     qPrintable(q.lastError().text()));
            QVERIFY(q.exec("CREATE UNIQUE INDEX deliveries_patch_id ON deliveries(patch_id)"
                           " WHERE replay_of IS NULL"));
            QVERIFY(q.prepare("INSERT INTO events (delivery, at, state, detail) VALUES "
                              "(?, 1000, 'received', NULL), (?, 1001, 'journaled', NULL)"));
            q.addBindValue(old.delivery.id);
            q.addBindValue(old.delivery.id);
            QVERIFY(q.exec());
            q.finish();
            db.close();
        }
        QSqlDatabase::removeDatabase("old-shape");

        m_journal = std::make_unique<DeliveryJournal>();
        const Status s = m_journal->open(journalPath());
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        const Delivery before = m_journal->find(old.delivery.id).value();
        QCOMPARE(before.journaledAtMs, qint64(0));
        QCOMPARE(states(before), QStringList({"received", "journaled"}));
        QCOMPARE(before.events.last().atMs, qint64(1001));

        const RecordResult fresh = recordOk(request("p2", "h2", QString(), 2000));
        const Delivery after = m_journal->find(fresh.delivery.id).value();
        QVERIFY(after.journaledAtMs > 0);
        QCOMPARE(states(after), QStringList({"received", "journaled"}));
        QVERIFY(m_journal->setStatus(fresh.delivery.id, "applying", "applying").ok());
        QCOMPARE(states(m_journal->find(fresh.delivery.id).value()),
                 QStringList({"received", "journaled", "applying"}));
        // The patch id still names one delivery without the old unique index.
        QCOMPARE(m_journal->record(request("p2", "other")).error().code,
                 QStringLiteral("conflict"));
    }

    void pragmasAreWalAndFull()
    {
        const QString name = journalConnection();
        QVERIFY2(!name.isEmpty(), "the journal's connection was not found");
        QSqlQuery q(QSqlDatabase::database(name, false));
        QVERIFY(q.exec("PRAGMA journal_mode"));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toString().toLower(), QStringLiteral("wal"));
        QVERIFY(q.exec("PRAGMA synchronous"));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toInt(), 2);
        QVERIFY(q.exec("PRAGMA busy_timeout"));
        QVERIFY(q.next());
        QVERIFY(q.value(0).toInt() > 0);
        QVERIFY(QFile::exists(journalPath() + "-wal"));
    }

    void openFailure_data()
    {
        QTest::addColumn<QString>("relative");
        QTest::newRow("missing directory") << "no/such/dir/journal.sqlite";
        QTest::newRow("parent is a file") << "plain-file/journal.sqlite";
        QTest::newRow("path is a directory") << "a-directory";
    }
    void openFailure()
    {
        QFETCH(QString, relative);
        TestSupport::writeTree(m_dir.path(), {{"plain-file", "x"}});
        QDir(m_dir.path()).mkpath("a-directory");
        DeliveryJournal j;
        const Status s = j.open(m_dir.filePath(relative));
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QStringLiteral("journal_failed"));
        QVERIFY2(s.error().message.contains(m_dir.filePath(relative)),
                 qPrintable(s.error().message));
        QVERIFY(!j.lastError().isEmpty());
        // Nothing that uses it crashes or pretends to work.
        QVERIFY(!j.record(request("p1")).ok());
        QVERIFY(!j.pending().ok());
        QCOMPARE(j.pendingCount(), qint64(-1));
    }
};

QTEST_GUILESS_MAIN(tst_DeliveryJournal)
#include "tst_deliveryjournal.moc"
