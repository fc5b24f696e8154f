// Notifier: which events notify (and with what words), per-kind switches, coalescing of bursts
// and the "runner unreachable for 30 s" threshold — all on an injected clock, no sleeps.
#include "notifier.h"

#include <QSignalSpy>
#include <QTest>

Q_DECLARE_METATYPE(Notification)

class tst_Notifier : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void deliveryOutcomes_data();
    void deliveryOutcomes();
    void kindsCanBeTurnedOff_data();
    void kindsCanBeTurnedOff();
    void burstIsCoalesced();
    void coalescingIsPerKind();
    void afterTheWindowTheNextOneShowsAtOnce();
    void serverFailedSaysWhy();
    void runnerUnreachableAfter30s();
    void runnerBackBefore30sSaysNothing();
    void recoveredAfterAFailure();
    void timerFiresWithoutBeingCalled();

private:
    Outcome outcome(const QString &status,
                    const QString &message = QStringLiteral("hunk 2 of a.c did not match"))
    {
        Outcome o;
        o.status = status;
        o.error = makeError("hunk_failed", message);
        if (status == QLatin1String("applied"))
            o.error = Error();
        return o;
    }
    qint64 m_now = 1'000'000;
    std::unique_ptr<Notifier> m_n;
};

void tst_Notifier::init()
{
    qRegisterMetaType<Notification>();
    m_now = 1'000'000;
    m_n = std::make_unique<Notifier>();
    m_n->setClock([this] { return m_now; });
}

void tst_Notifier::deliveryOutcomes_data()
{
    QTest::addColumn<QString>("status");
    QTest::addColumn<bool>("notifies");
    QTest::addColumn<int>("kind");
    QTest::newRow("applied: silent") << "applied" << false << 0;
    QTest::newRow("queued: silent") << "queued" << false << 0;
    QTest::newRow("failed") << "failed" << true << int(NotificationKind::DeliveryFailed);
    QTest::newRow("rejected") << "rejected" << true << int(NotificationKind::DeliveryFailed);
    QTest::newRow("dead") << "dead" << true << int(NotificationKind::DeliveryDead);
}

void tst_Notifier::deliveryOutcomes()
{
    QFETCH(QString, status);
    QFETCH(bool, notifies);
    QFETCH(int, kind);
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->deliveryFinished("d-1", "patch-v3.9.7", outcome(status));
    QCOMPARE(spy.count(), notifies ? 1 : 0);
    if (!notifies)
        return;
    const auto n = spy.at(0).at(0).value<Notification>();
    QCOMPARE(int(n.kind), kind);
    QVERIFY2(n.summary.contains("patch-v3.9.7"), qPrintable(n.summary));
    QCOMPARE(n.body, QStringLiteral("hunk 2 of a.c did not match"));
    QCOMPARE(n.deliveryId, QStringLiteral("d-1"));
}

void tst_Notifier::kindsCanBeTurnedOff_data()
{
    QTest::addColumn<int>("kind");
    for (NotificationKind k : Notifier::allKinds())
        QTest::newRow(qPrintable(Notifier::kindKey(k))) << int(k);
}

void tst_Notifier::kindsCanBeTurnedOff()
{
    QFETCH(int, kind);
    const auto k = NotificationKind(kind);
    m_n->setEnabled(k, false);
    QVERIFY(!m_n->isEnabled(k));
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->deliveryFinished("d-1", "p1", outcome("failed"));
    m_n->deliveryFinished("d-2", "p2", outcome("dead"));
    m_n->serverFailed("address in use");
    m_n->runnerReachability("connection refused");
    m_now += 31'000;
    m_n->checkDue();
    m_n->runnerReachability(QString());
    m_n->healthChanged(Health::Ok, Health::Failing);
    for (const auto &args : spy)
        QVERIFY(int(args.at(0).value<Notification>().kind) != kind);
    // Every other kind did speak: the switch turns off one kind only.
    QVERIFY(spy.count() >= 3);
}

void tst_Notifier::burstIsCoalesced()
{
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    for (int i = 0; i < 5; ++i) {
        m_n->deliveryFinished(QString("d-%1").arg(i), QString("p-%1").arg(i), outcome("failed"));
        m_now += 1000;
    }
    QCOMPARE(spy.count(), 1); // the first at once, the rest counted
    QCOMPARE(spy.at(0).at(0).value<Notification>().deliveryId, QStringLiteral("d-0"));
    QCOMPARE(m_n->nextDueMs(), 1'000'000 + 10'000);
    m_n->checkDue(); // the window is still open
    QCOMPARE(spy.count(), 1);
    m_now = 1'000'000 + 10'000;
    m_n->checkDue();
    QCOMPARE(spy.count(), 2);
    const auto burst = spy.at(1).at(0).value<Notification>();
    QCOMPARE(burst.summary, QStringLiteral("5 deliveries failed in the last 10 s"));
    QCOMPARE(burst.count, 5);
    QVERIFY(burst.deliveryId.isEmpty());
    QCOMPARE(m_n->nextDueMs(), -1); // nothing left to wait for: no timer
}

void tst_Notifier::coalescingIsPerKind()
{
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->deliveryFinished("d-1", "p1", outcome("failed"));
    m_n->deliveryFinished("d-2", "p2", outcome("dead"));
    m_n->serverFailed("address in use");
    QCOMPARE(spy.count(), 3);
}

void tst_Notifier::afterTheWindowTheNextOneShowsAtOnce()
{
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->deliveryFinished("d-1", "p1", outcome("failed"));
    m_now += 10'001;
    m_n->deliveryFinished("d-2", "p2", outcome("failed"));
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).value<Notification>().deliveryId, QStringLiteral("d-2"));
    QCOMPARE(m_n->nextDueMs(), -1); // a lone event needs no timer
}

void tst_Notifier::serverFailedSaysWhy()
{
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->serverFailed("cannot listen on 127.0.0.1:5555: address in use");
    QCOMPARE(spy.count(), 1);
    const auto n = spy.at(0).at(0).value<Notification>();
    QCOMPARE(n.kind, NotificationKind::ServerFailed);
    QVERIFY(n.body.contains("address in use"));
}

void tst_Notifier::runnerUnreachableAfter30s()
{
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->runnerReachability("connection refused");
    QCOMPARE(spy.count(), 0);
    QCOMPARE(m_n->nextDueMs(), 1'000'000 + 30'000);
    m_now += 29'999;
    m_n->runnerReachability("connection refused"); // still down: a repeated report
    QCOMPARE(spy.count(), 0);
    m_now += 1;
    m_n->checkDue();
    QCOMPARE(spy.count(), 1);
    auto n = spy.at(0).at(0).value<Notification>();
    QCOMPARE(n.kind, NotificationKind::RunnerUnreachable);
    QCOMPARE(n.summary, QStringLiteral("The runner has been unreachable for 30 s"));
    QCOMPARE(n.body, QStringLiteral("connection refused"));
    m_now += 60'000;
    m_n->checkDue();
    QCOMPARE(spy.count(), 1); // said once
    m_n->runnerReachability(QString());
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).value<Notification>().kind, NotificationKind::Recovered);
}

void tst_Notifier::runnerBackBefore30sSaysNothing()
{
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->runnerReachability("connection refused");
    m_now += 10'000;
    m_n->runnerReachability(QString());
    m_now += 30'000;
    m_n->checkDue();
    QCOMPARE(spy.count(), 0);
    QCOMPARE(m_n->nextDueMs(), -1);
}

void tst_Notifier::recoveredAfterAFailure()
{
    QSignalSpy spy(m_n.get(), &Notifier::notify);
    m_n->healthChanged(Health::Ok, Health::Degraded); // nothing was announced: silent
    QCOMPARE(spy.count(), 0);
    m_n->deliveryFinished("d-1", "p1", outcome("failed"));
    m_n->healthChanged(Health::Ok, Health::Failing);
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).value<Notification>().kind, NotificationKind::Recovered);
    m_n->healthChanged(Health::Ok, Health::Degraded); // once
    QCOMPARE(spy.count(), 2);
}

void tst_Notifier::timerFiresWithoutBeingCalled()
{
    // With the real clock and a short window, the single-shot timer closes the window itself.
    Notifier n;
    n.setCoalesceWindowMs(50);
    QSignalSpy spy(&n, &Notifier::notify);
    n.deliveryFinished("d-1", "p1", outcome("failed"));
    n.deliveryFinished("d-2", "p2", outcome("failed"));
    QCOMPARE(spy.count(), 1);
    QVERIFY(spy.wait(2000));
    QCOMPARE(spy.at(1).at(0).value<Notification>().count, 2);
}

QTEST_GUILESS_MAIN(tst_Notifier)
#include "tst_notifier.moc"
