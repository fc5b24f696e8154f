#include "retrypolicy.h"

#include <QTest>

class tst_RetryPolicy : public QObject
{
    Q_OBJECT
private slots:
    void fullJitterBounds_data()
    {
        QTest::addColumn<int>("attempt");
        QTest::addColumn<qint64>("cap");
        QTest::newRow("1") << 1 << qint64(100);
        QTest::newRow("2") << 2 << qint64(200);
        QTest::newRow("4") << 4 << qint64(800);
        QTest::newRow("capped") << 10 << qint64(5000);
        QTest::newRow("huge") << 500 << qint64(5000);
    }
    void fullJitterBounds()
    {
        QFETCH(int, attempt);
        QFETCH(qint64, cap);
        RetryPolicy p({100, 5000, 10, 60000});
        QCOMPARE(p.delayMs(attempt, -1, [] { return 0.0; }), qint64(0));
        QCOMPARE(p.delayMs(attempt, -1, [] { return 0.5; }), cap / 2);
        QVERIFY(p.delayMs(attempt, -1, [] { return 0.999999; }) < cap);
    }
    void retryAfterWins()
    {
        RetryPolicy p({100, 5000, 10, 60000});
        QCOMPARE(p.delayMs(1, 1000, [] { return 0.9; }), qint64(1000));
        QCOMPARE(p.delayMs(3, 20000, [] { return 0.1; }), qint64(20000));
    }
    void budget()
    {
        RetryPolicy p({100, 5000, 3, 10000});
        QVERIFY(p.mayRetry(1, 0));
        QVERIFY(p.mayRetry(2, 9999));
        QVERIFY(!p.mayRetry(3, 0));
        QVERIFY(!p.mayRetry(1, 10000));
    }
};

QTEST_GUILESS_MAIN(tst_RetryPolicy)
#include "tst_retrypolicy.moc"
