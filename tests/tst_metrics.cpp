#include "metrics.h"

#include <QTest>

class tst_Metrics : public QObject
{
    Q_OBJECT
private slots:
    void rendersCountersGaugesHistograms()
    {
        Metrics m;
        m.deliveryFinished("applied", 2.0);
        m.deliveryFinished("failed", 30.0);
        m.intakeAnswered(202);
        m.intakeJournaled(0.7);
        m.intakeAnswered(400);
        m.requestRejected("bad_json");
        m.forwardAttempt("unreachable");
        Metrics::Gauges g;
        g.pending = 3;
        g.health = 1;
        g.journalByStatus = {{"applied", 5}, {"queued", 3}};
        m.requestRejected("body_too_large");
        m.requestRejected("body_too_large");
        const QByteArray text = m.render("1.0", "relay", g);
        QVERIFY(text.contains("ghost_runner_build_info{version=\"1.0\",role=\"relay\"} 1\n"));
        QVERIFY(text.contains("ghost_runner_deliveries_total{status=\"applied\"} 1\n"));
        QVERIFY(text.contains("ghost_runner_deliveries_total{status=\"dead\"} 0\n"));
        QVERIFY(text.contains("ghost_runner_queue_depth 3\n"));
        QVERIFY(text.contains("ghost_runner_health_status 1\n"));
        QVERIFY(text.contains("ghost_runner_journal_deliveries{status=\"queued\"} 3\n"));
        QVERIFY(text.contains("ghost_runner_intake_responses_total{code=\"202\"} 1\n"));
        QVERIFY(text.contains("ghost_runner_rejected_requests_total{reason=\"bad_json\"} 1\n"));
        QVERIFY(
            text.contains("ghost_runner_rejected_requests_total{reason=\"body_too_large\"} 2\n"));
        QVERIFY(text.contains("ghost_runner_forward_attempts_total{result=\"unreachable\"} 1\n"));
        // Histogram buckets are cumulative and end with +Inf = count.
        QVERIFY(text.contains("ghost_runner_intake_duration_seconds_bucket{le=\"0.001\"} 1\n"));
        QVERIFY(text.contains("ghost_runner_apply_duration_seconds_bucket{le=\"0.005\"} 1\n"));
        QVERIFY(text.contains("ghost_runner_apply_duration_seconds_bucket{le=\"0.05\"} 2\n"));
        QVERIFY(text.contains("ghost_runner_apply_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        QVERIFY(text.contains("ghost_runner_apply_duration_seconds_count 2\n"));
        // Every family has HELP and TYPE.
        int types = 0, helps = 0;
        for (const QByteArray &l : text.split('\n')) {
            types += l.startsWith("# TYPE ");
            helps += l.startsWith("# HELP ");
        }
        QCOMPARE(types, helps);
        QVERIFY(types >= 12);
    }
    void labelsAreEscaped()
    {
        Metrics m;
        m.requestRejected("we\"ird\\reason\n");
        const QByteArray text = m.render("v", "r", {});
        QVERIFY(text.contains("reason=\"we\\\"ird\\\\reason\\n\""));
    }
};

QTEST_GUILESS_MAIN(tst_Metrics)
#include "tst_metrics.moc"
