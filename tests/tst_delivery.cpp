// One delivery as the API shows it (GET /deliveries, /deliveries/{id}, ?wait answers): which
// statuses are final, and the JSON record with and without its timeline.

#include "delivery.h"

#include <QJsonDocument>
#include <QTest>

namespace {
Delivery sample(const QString &status)
{
    Delivery d;
    d.seq = 7;
    d.id = "0b0e9c1c-5f2a-4d8e-9a53-1a2b3c4d5e6f";
    d.patchId = "patch-1";
    d.format = "unified";
    d.status = status;
    d.dedupeKey = "msg_1";
    d.source = "github";
    d.receivedAtMs = 1795473900123;
    return d;
}

Outcome appliedOutcome()
{
    Outcome o;
    o.status = "applied";
    o.format = "pattern"; // deliberately not the delivery's: the delivery's own fields win
    o.files = QJsonArray{QJsonObject{{"path", "a.c"}, {"action", "modified"}}};
    o.notes = {"hunk 1 applied at offset +2"};
    o.durationMs = 1.5;
    return o;
}
} // namespace

class tst_Delivery : public QObject
{
    Q_OBJECT
private slots:
    void finalStatuses_data()
    {
        QTest::addColumn<QString>("status");
        QTest::addColumn<bool>("final");
        QTest::newRow("queued") << "queued" << false;
        QTest::newRow("applying") << "applying" << false;
        QTest::newRow("forwarding") << "forwarding" << false;
        QTest::newRow("applied") << "applied" << true;
        QTest::newRow("failed") << "failed" << true;
        QTest::newRow("rejected") << "rejected" << true;
        QTest::newRow("dead") << "dead" << true;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("case matters") << "Applied" << false;
        QTest::newRow("unknown") << "done" << false;
    }
    void finalStatuses()
    {
        QFETCH(QString, status);
        QFETCH(bool, final);
        QCOMPARE(Delivery::isFinalStatus(status), final);
        QCOMPARE(sample(status).isFinal(), final);
    }

    void queuedRecord()
    {
        const QJsonObject o = sample("queued").toJson(false);
        QCOMPARE(o.value("delivery").toString(), QString("0b0e9c1c-5f2a-4d8e-9a53-1a2b3c4d5e6f"));
        QCOMPARE(o.value("id").toString(), QString("patch-1"));
        QCOMPARE(o.value("format").toString(), QString("unified"));
        QCOMPARE(o.value("status").toString(), QString("queued"));
        QCOMPARE(o.value("received_at").toString(), QString("2026-11-23T22:45:00.123Z"));
        QVERIFY(o.contains("finished_at"));
        QVERIFY(o.value("finished_at").isNull());
        QCOMPARE(o.value("links").toObject().value("self").toString(),
                 QString("/deliveries/0b0e9c1c-5f2a-4d8e-9a53-1a2b3c4d5e6f"));
        // Internal bookkeeping stays internal; optional keys appear only when they say something.
        for (const char *key : {"seq", "dedupe_key", "source", "replay_of", "attempts", "timeline",
                                "files", "error", "duration_ms"})
            QVERIFY2(!o.contains(QLatin1String(key)), key);
    }

    void optionalKeys()
    {
        Delivery d = sample("forwarding");
        d.replayOf = "11111111-2222-3333-4444-555555555555";
        d.attempts = 3;
        d.receivedAtMs = 0;
        const QJsonObject o = d.toJson(false);
        QCOMPARE(o.value("replay_of").toString(), d.replayOf);
        QCOMPARE(o.value("attempts").toInt(), 3);
        QVERIFY(o.value("received_at").isNull());
    }

    void finalRecordCarriesTheOutcome()
    {
        Delivery d = sample("applied");
        d.finishedAtMs = 1795473901000;
        d.outcome = appliedOutcome();
        const QJsonObject o = d.toJson(false);
        QCOMPARE(o.value("status").toString(), QString("applied"));
        QCOMPARE(o.value("format").toString(), QString("unified"));
        QCOMPARE(o.value("finished_at").toString(), QString("2026-11-23T22:45:01.000Z"));
        QCOMPARE(o.value("files").toArray(), appliedOutcome().files);
        QCOMPARE(o.value("notes").toArray(), QJsonArray{"hunk 1 applied at offset +2"});
        QCOMPARE(o.value("duration_ms").toDouble(), 1.5);
        QVERIFY(!o.contains("error"));
    }

    void failedRecordCarriesTheError()
    {
        Delivery d = sample("failed");
        d.finishedAtMs = 1795473901000;
        Error e = makeError("hunk_failed", "hunk 2 of src/a.c did not match near line 40");
        e.file = "src/a.c";
        e.hunk = 2;
        d.outcome = Outcome::failure("failed", "unified", e);
        const QJsonObject o = d.toJson(false);
        const QJsonObject err = o.value("error").toObject();
        QCOMPARE(err.value("code").toString(), QString("hunk_failed"));
        QCOMPARE(err.value("file").toString(), QString("src/a.c"));
        QCOMPARE(err.value("hunk").toInt(), 2);
        QVERIFY(!o.contains("files"));
    }

    void unfinishedRecordHidesAStaleOutcome()
    {
        // Until the delivery is final, no outcome is reported, whatever the field holds.
        Delivery d = sample("applying");
        d.outcome = Outcome::failure("failed", "unified", makeError("x", "old"));
        const QJsonObject o = d.toJson(false);
        QCOMPARE(o.value("status").toString(), QString("applying"));
        QVERIFY(!o.contains("error"));
        QVERIFY(!o.contains("duration_ms"));
    }

    void timeline()
    {
        Delivery d = sample("applied");
        d.outcome = appliedOutcome();
        d.events = {{1795473900123, "received", {}},
                    {1795473900200, "journaled", {}},
                    {1795473900300, "attempt_failed", QJsonObject{{"http_status", 503}}},
                    {0, "applied", {}}};
        QVERIFY(!d.toJson(false).contains("timeline"));
        const QJsonArray t = d.toJson(true).value("timeline").toArray();
        QCOMPARE(t.size(), 4);
        QCOMPARE(QJsonDocument(t[0].toObject()).toJson(QJsonDocument::Compact),
                 QByteArray(R"({"at":"2026-11-23T22:45:00.123Z","state":"received"})"));
        QCOMPARE(t[1].toObject().value("state").toString(), QString("journaled"));
        QCOMPARE(t[2].toObject().value("detail").toObject().value("http_status").toInt(), 503);
        QVERIFY(!t[1].toObject().contains("detail"));
        QVERIFY(t[3].toObject().value("at").isNull());
    }

    void emptyTimelineIsAnEmptyArray()
    {
        const QJsonObject o = sample("queued").toJson(true);
        QVERIFY(o.value("timeline").isArray());
        QVERIFY(o.value("timeline").toArray().isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_Delivery)
#include "tst_delivery.moc"
