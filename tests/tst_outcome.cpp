// Outcome: the final word on a delivery, as the confirmation log writes and reads it back.

#include "outcome.h"

#include <QJsonArray>
#include <QTest>

class tst_Outcome : public QObject
{
    Q_OBJECT
private slots:
    void roundTrip_data()
    {
        QTest::addColumn<QString>("status");
        QTest::addColumn<bool>("dryRun");
        QTest::addColumn<QString>("errorCode");
        QTest::addColumn<double>("durationMs");
        QTest::newRow("applied") << "applied" << false << "" << 1.4;
        QTest::newRow("applied, dry run") << "applied" << true << "" << 0.25;
        QTest::newRow("failed") << "failed" << false << "hunk_failed" << 12.0;
        QTest::newRow("rejected") << "rejected" << false << "path_outside_workspace" << 0.001;
        QTest::newRow("dead after hours of retries")
            << "dead" << false << "forward_failed" << 3.0 * 3600 * 1000;
    }
    void roundTrip()
    {
        QFETCH(QString, status);
        QFETCH(bool, dryRun);
        QFETCH(QString, errorCode);
        QFETCH(double, durationMs);
        Outcome o;
        o.status = status;
        o.format = "mutations";
        o.dryRun = dryRun;
        if (status == "applied")
            o.files = QJsonArray{QJsonObject{{"path", "a.c"}, {"action", "modified"}}};
        o.notes = QStringList{"a.c: 1 replacement"};
        o.output = "ok\n";
        if (!errorCode.isEmpty()) {
            o.error = makeError(errorCode, "it did not work");
            o.error.file = "a.c";
            o.error.hunk = 2;
            o.error.line = 40;
            o.error.detail = "near miss";
        }
        o.durationMs = durationMs;
        const QJsonObject json = o.toJson();
        QCOMPARE(json.value("duration_ms").toDouble(), durationMs);
        QCOMPARE(json.contains("dry_run"), dryRun);
        QCOMPARE(json.contains("files"), status == "applied");
        const Outcome back = Outcome::fromJson(json);
        QCOMPARE(back.status, o.status);
        QCOMPARE(back.format, o.format);
        QCOMPARE(back.dryRun, o.dryRun);
        QCOMPARE(back.files, o.files);
        QCOMPARE(back.notes, o.notes);
        QCOMPARE(back.output, o.output);
        QCOMPARE(back.error.toJson(), o.error.toJson());
        QCOMPARE(back.durationMs, durationMs);
        QCOMPARE(back.applied(), status == "applied");
    }

    void failureCarriesTheError()
    {
        const Outcome o = Outcome::failure("failed", "pattern", makeError("no_match", "nothing"));
        QVERIFY(!o.applied());
        QCOMPARE(o.toJson().value("error").toObject().value("code").toString(),
                 QString("no_match"));
        QVERIFY(!o.toJson().contains("files"));
    }
};

QTEST_GUILESS_MAIN(tst_Outcome)
#include "tst_outcome.moc"
