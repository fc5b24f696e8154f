#include "deliveryjournal.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

namespace {
RecordRequest req(const QString &id, const QByteArray &hash = "h1", const QString &key = {})
{
    RecordRequest r;
    r.patchId = id;
    r.bodyHash = hash;
    r.dedupeKey = key;
    r.format = "mutations";
    r.body = "{\"id\":\"" + id.toUtf8() + "\"}";
    return r;
}
} // namespace

class tst_DeliveryJournal : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString path() const { return m_dir.path() + "/journal.sqlite"; }

private slots:
    void init() { QFile::remove(path()); }

    void recordAndFind()
    {
        DeliveryJournal j;
        QVERIFY(j.open(path()).ok());
        const Result<RecordResult> r = j.record(req("p1"));
        QVERIFY(r.ok());
        QVERIFY(!r->duplicate);
        QCOMPARE(r->delivery.status, QString("queued"));
        const Result<Delivery> d = j.find(r->delivery.id);
        QCOMPARE(d->patchId, QString("p1"));
        QCOMPARE(d->events.size(), 2);
        QCOMPARE(d->events[0].state, QString("received"));
        QCOMPARE(d->events[1].state, QString("journaled"));
        QCOMPARE(j.body(r->delivery.id), QByteArray("{\"id\":\"p1\"}"));
        QCOMPARE(j.find("nope").error().code, QString("not_found"));
    }

    void duplicatesAndConflicts()
    {
        DeliveryJournal j;
        QVERIFY(j.open(path()).ok());
        const QString first = j.record(req("p1", "h1"))->delivery.id;
        const Result<RecordResult> again = j.record(req("p1", "h1"));
        QVERIFY(again->duplicate);
        QCOMPARE(again->delivery.id, first);
        const Result<RecordResult> conflict = j.record(req("p1", "h2"));
        QCOMPARE(conflict.error().code, QString("conflict"));
        QVERIFY(conflict.error().message.contains(first));
        // A sender's delivery key dedupes even under another patch id.
        const QString keyed = j.record(req("p2", "h", "wh-1"))->delivery.id;
        const Result<RecordResult> byKey = j.record(req("p3", "hx", "wh-1"));
        QVERIFY(byKey->duplicate);
        QCOMPARE(byKey->delivery.id, keyed);
        // Replays are new deliveries of the same patch id.
        RecordRequest replay = req("p1", "h1");
        replay.replayOf = first;
        const Result<RecordResult> rep = j.record(replay);
        QVERIFY(!rep->duplicate);
        QVERIFY(rep->delivery.id != first);
    }

    void lifecycleAndTimeline()
    {
        DeliveryJournal j;
        QVERIFY(j.open(path()).ok());
        const QString id = j.record(req("p1"))->delivery.id;
        QVERIFY(j.setStatus(id, "applying", "applying").ok());
        QVERIFY(j.addEvent(id, "attempt_failed", {{"attempt", 1}}).ok());
        Outcome o;
        o.status = "failed";
        o.format = "mutations";
        o.error = makeError("no_match", "nothing matched");
        QVERIFY(j.finish(id, o).ok());
        const Delivery d = j.find(id).value();
        QCOMPARE(d.status, QString("failed"));
        QVERIFY(d.finishedAtMs > 0);
        QCOMPARE(d.outcome.error.code, QString("no_match"));
        QStringList states;
        for (const DeliveryEvent &e : d.events)
            states << e.state;
        QCOMPARE(states, (QStringList{"received", "journaled", "applying", "attempt_failed", "failed"}));
        QCOMPARE(d.events[3].detail["attempt"].toInt(), 1);
        QCOMPARE(d.events[4].detail["error"].toObject()["code"].toString(), QString("no_match"));
    }

    void pendingListCounts()
    {
        DeliveryJournal j;
        QVERIFY(j.open(path()).ok());
        QStringList ids;
        for (int i = 0; i < 5; ++i)
            ids << j.record(req(QString("p%1").arg(i)))->delivery.id;
        Outcome applied;
        applied.status = "applied";
        QVERIFY(j.finish(ids[1], applied).ok());
        QVERIFY(j.setStatus(ids[3], "applying", "applying").ok());
        const QList<Delivery> pending = j.pending().value();
        QCOMPARE(pending.size(), 4);
        QCOMPARE(pending[0].id, ids[0]);
        QCOMPARE(pending[2].id, ids[3]);
        QCOMPARE(j.pendingCount(), 4);
        QCOMPARE(j.countsByStatus().value("applied"), 1);
        QVERIFY(j.oldestPendingReceivedMs() > 0);
        DeliveryFilter f;
        f.status = "applied";
        QCOMPARE(j.list(f)->size(), 1);
        f = DeliveryFilter();
        f.limit = 2;
        const QList<Delivery> page1 = j.list(f).value();
        QCOMPARE(page1.size(), 2);
        QCOMPARE(page1[0].id, ids[4]); // newest first
        f.beforeSeq = page1.last().seq;
        QCOMPARE(j.list(f)->first().id, ids[2]);
        f = DeliveryFilter();
        f.patchId = "p3";
        QCOMPARE(j.list(f)->size(), 1);
        f = DeliveryFilter();
        f.sinceMs = QDateTime::currentMSecsSinceEpoch() + 60000;
        QCOMPARE(j.list(f)->size(), 0);
    }

    void durableAcrossReopenInWalFull()
    {
        QString id;
        {
            DeliveryJournal j;
            QVERIFY(j.open(path()).ok());
            id = j.record(req("keep"))->delivery.id;
        }
        DeliveryJournal again;
        QVERIFY(again.open(path()).ok());
        QCOMPARE(again.find(id)->patchId, QString("keep"));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "probe");
            db.setDatabaseName(path());
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec("PRAGMA journal_mode") && q.next());
            QCOMPARE(q.value(0).toString(), QString("wal"));
            db.close();
        }
        QSqlDatabase::removeDatabase("probe");
    }

    void unopenablePathFails()
    {
        QFile blocker(m_dir.path() + "/file");
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        DeliveryJournal j;
        const Status s = j.open(m_dir.path() + "/file/journal.sqlite");
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("journal_failed"));
        QVERIFY(!j.lastError().isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_DeliveryJournal)
#include "tst_deliveryjournal.moc"
