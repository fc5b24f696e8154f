// ParallelFor: every piece runs exactly once, whatever the count and however many helpers start.

#include "parallelfor.h"

#include <QTest>
#include <QThread>
#include <QThreadPool>
#include <atomic>
#include <vector>

class tst_ParallelFor : public QObject
{
    Q_OBJECT
private slots:
    void eachPieceOnce_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("minPerThread");
        QTest::newRow("none") << 0 << 1;
        QTest::newRow("one") << 1 << 1;
        QTest::newRow("below the threshold") << 31 << 32;
        QTest::newRow("many") << 10000 << 1;
        QTest::newRow("many, large pieces") << 257 << 16;
    }
    void eachPieceOnce()
    {
        QFETCH(int, count);
        QFETCH(int, minPerThread);
        std::vector<std::atomic<int>> runs(static_cast<size_t>(count));
        ParallelFor::run(
            count, [&](qsizetype i) { ++runs[size_t(i)]; }, minPerThread);
        for (int i = 0; i < count; ++i)
            QCOMPARE(runs[size_t(i)].load(), 1);
    }

    // With the pool busy, no helper starts: the caller does it all and does not wait.
    void busyPoolStillFinishes()
    {
        QThreadPool *pool = QThreadPool::globalInstance();
        std::atomic<bool> release{false};
        for (int t = 0; t < pool->maxThreadCount(); ++t)
            pool->start([&] {
                while (!release.load())
                    QThread::msleep(1);
            });
        std::atomic<int> total{0};
        ParallelFor::run(
            1000, [&](qsizetype) { ++total; }, 1);
        QCOMPARE(total.load(), 1000);
        release = true;
        pool->waitForDone();
    }
};

QTEST_GUILESS_MAIN(tst_ParallelFor)
#include "tst_parallelfor.moc"
