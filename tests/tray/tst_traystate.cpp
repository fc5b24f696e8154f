// TrayState: the documented precedence (failing > paused > degraded > busy > ok), the facts read
// from a /health body, and the tooltip.
#include "traystate.h"

#include <QJsonDocument>
#include <QTest>

Q_DECLARE_METATYPE(TrayState)
Q_DECLARE_METATYPE(TrayFacts)

class tst_TrayState : public QObject
{
    Q_OBJECT
private slots:
    void precedence_data();
    void precedence();
    void fromHealthJson();
    void tooltip();
    void relativeAges_data();
    void relativeAges();
};

namespace {
TrayFacts healthy()
{
    TrayFacts f;
    f.listening = QStringLiteral("127.0.0.1:5555");
    return f;
}
} // namespace

void tst_TrayState::precedence_data()
{
    QTest::addColumn<TrayFacts>("facts");
    QTest::addColumn<TrayState>("expected");

    TrayFacts f = healthy();
    QTest::newRow("ok") << f << TrayState::Ok;
    f = healthy();
    f.lastStatus = "applied";
    QTest::newRow("ok after an applied delivery") << f << TrayState::Ok;
    f = healthy();
    f.applying = true;
    QTest::newRow("busy: applying") << f << TrayState::Busy;
    f = healthy();
    f.queued = 3;
    QTest::newRow("busy: queued") << f << TrayState::Busy;
    f = healthy();
    f.queued = 3;
    f.runnerError = "connection refused";
    QTest::newRow("degraded beats busy: runner unreachable, queue growing")
        << f << TrayState::Degraded;
    f = healthy();
    f.health = Health::Degraded;
    QTest::newRow("degraded: /health says so") << f << TrayState::Degraded;
    f = healthy();
    f.paused = true;
    f.health = Health::Degraded; // /health reports a pause as degraded
    f.queued = 2;
    QTest::newRow("paused beats degraded and busy") << f << TrayState::Paused;
    f = healthy();
    f.paused = true;
    f.lastStatus = "failed";
    QTest::newRow("failing beats paused: last delivery failed") << f << TrayState::Failing;
    f = healthy();
    f.lastStatus = "dead";
    f.runnerError = "timeout";
    QTest::newRow("failing beats degraded: last delivery dead") << f << TrayState::Failing;
    f = healthy();
    f.lastStatus = "rejected";
    QTest::newRow("failing: last delivery rejected") << f << TrayState::Failing;
    f = healthy();
    f.listening.clear();
    f.paused = true;
    QTest::newRow("failing: not listening, even paused") << f << TrayState::Failing;
    f = healthy();
    f.startError = "cannot listen on 127.0.0.1:5555: address in use";
    QTest::newRow("failing: could not start") << f << TrayState::Failing;
    f = healthy();
    f.reachable = false;
    QTest::newRow("failing: daemon unreachable (attach)") << f << TrayState::Failing;
    f = healthy();
    f.health = Health::Failing;
    f.applying = true;
    QTest::newRow("failing: /health failing beats busy") << f << TrayState::Failing;
}

void tst_TrayState::precedence()
{
    QFETCH(TrayFacts, facts);
    QFETCH(TrayState, expected);
    QCOMPARE(trayStateName(computeTrayState(facts)), trayStateName(expected));
    QVERIFY(!trayStatusLine(expected, facts).isEmpty());
}

void tst_TrayState::fromHealthJson()
{
    const QByteArray body = R"({"status":"degraded","role":"relay","components":{
        "server":{"status":"ok","listening":"127.0.0.1:5555"},
        "journal":{"status":"ok","pending":4},
        "forwarder":{"status":"degraded","message":"connection refused","runner_url":"http://r:5053",
                     "queue":4,"last_error":"connection refused","unreachable_for_s":12,
                     "paused":false,"last_result":"applied"}}})";
    const TrayFacts f = TrayFacts::fromHealthJson(QJsonDocument::fromJson(body).object());
    QCOMPARE(f.listening, QStringLiteral("127.0.0.1:5555"));
    QCOMPARE(int(f.health), int(Health::Degraded));
    QCOMPARE(f.queued, 4);
    QVERIFY(f.runnerUnreachable());
    QCOMPARE(f.runnerUnreachableForS, 12);
    QCOMPARE(f.lastStatus, QStringLiteral("applied"));
    QVERIFY(f.problems.contains("connection refused"));
    QCOMPARE(computeTrayState(f), TrayState::Degraded);

    const QByteArray paused = R"({"status":"degraded","components":{
        "server":{"status":"ok","listening":"127.0.0.1:1"},"journal":{"status":"ok","pending":0},
        "executor":{"status":"degraded","paused":true,"last_result":null,"queue":0}}})";
    const TrayFacts p = TrayFacts::fromHealthJson(QJsonDocument::fromJson(paused).object());
    QVERIFY(p.paused);
    QVERIFY(!p.runnerUnreachable());
    QCOMPARE(computeTrayState(p), TrayState::Paused);

    const QByteArray down = R"({"status":"failing","components":{
        "server":{"status":"failing","listening":null,"message":"not listening"}}})";
    QCOMPARE(computeTrayState(TrayFacts::fromHealthJson(QJsonDocument::fromJson(down).object())),
             TrayState::Failing);
}

void tst_TrayState::tooltip()
{
    TrayFacts f = healthy();
    f.queued = 3;
    f.lastStatus = "applied";
    const qint64 now = 1'700'000'000'000;
    f.lastAtMs = now - 2 * 60 * 1000 - 5000;
    QCOMPARE(trayTooltip(f, now),
             QStringLiteral("Listening on 127.0.0.1:5555 · 3 queued · last: applied 2 min ago"));
    f.listening.clear();
    QVERIFY(trayTooltip(f, now).startsWith("Not listening"));
    f.reachable = false;
    QVERIFY(trayTooltip(f, now).startsWith("Daemon unreachable"));
}

void tst_TrayState::relativeAges_data()
{
    QTest::addColumn<qint64>("ageMs");
    QTest::addColumn<QString>("text");
    QTest::newRow("now") << qint64(1000) << "just now";
    QTest::newRow("seconds") << qint64(40'000) << "40 s ago";
    QTest::newRow("minutes") << qint64(125'000) << "2 min ago";
    QTest::newRow("hours") << qint64(3 * 3600'000) << "3 h ago";
    QTest::newRow("a day") << qint64(86400'000) << "1 day ago";
    QTest::newRow("days") << qint64(3 * 86400'000) << "3 days ago";
}

void tst_TrayState::relativeAges()
{
    QFETCH(qint64, ageMs);
    QFETCH(QString, text);
    QCOMPARE(relativeAge(10'000'000'000 - ageMs, 10'000'000'000), text);
}

QTEST_GUILESS_MAIN(tst_TrayState)
#include "tst_traystate.moc"
