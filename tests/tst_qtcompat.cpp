// The Qt version shim: every timestamp of the API and the log is ISO 8601 UTC with milliseconds
// and a Z, whatever the local time zone, on Qt 6.4 and on Qt 6.8.

#include "qtcompat.h"
#include "testsupport.h"

#include <QTest>
#include <ctime>

class tst_QtCompat : public QObject
{
    Q_OBJECT
private slots:
    void isoUtc_data()
    {
        QTest::addColumn<qint64>("ms");
        QTest::addColumn<QString>("iso");
        QTest::newRow("epoch") << qint64(0) << "1970-01-01T00:00:00.000Z";
        QTest::newRow("one millisecond") << qint64(1) << "1970-01-01T00:00:00.001Z";
        QTest::newRow("before the epoch") << qint64(-1) << "1969-12-31T23:59:59.999Z";
        QTest::newRow("SPEC.md example") << qint64(1795473900123) << "2026-11-23T22:45:00.123Z";
        QTest::newRow("leap day") << qint64(1709164800000) << "2024-02-29T00:00:00.000Z";
        QTest::newRow("last millisecond of a year")
            << qint64(1735689599999) << "2024-12-31T23:59:59.999Z";
        QTest::newRow("past 2038") << qint64(2147483648000) << "2038-01-19T03:14:08.000Z";
    }
    void isoUtc()
    {
        QFETCH(qint64, ms);
        QFETCH(QString, iso);
        QCOMPARE(QtCompat::isoUtc(ms), iso);
        // The string reads back as the same instant.
        const QDateTime back = QDateTime::fromString(iso, Qt::ISODateWithMs);
        QVERIFY(back.isValid());
        QCOMPARE(back.toMSecsSinceEpoch(), ms);
    }

    void utcFromMsIsUtc()
    {
        const QDateTime t = QtCompat::utcFromMs(1795473900123);
        QVERIFY(t.isValid());
        QCOMPARE(t.offsetFromUtc(), 0);
        QCOMPARE(t.toMSecsSinceEpoch(), qint64(1795473900123));
        QCOMPARE(t.time().msec(), 123);
        QCOMPARE(t.time().hour(), 22);
    }

    void independentOfTheLocalTimeZone_data()
    {
        QTest::addColumn<QByteArray>("tz");
        QTest::newRow("UTC") << QByteArray("UTC");
        QTest::newRow("New York") << QByteArray("America/New_York");
        QTest::newRow("Kathmandu (+05:45)") << QByteArray("Asia/Kathmandu");
        QTest::newRow("POSIX offset") << QByteArray("XYZ-14");
    }
    void independentOfTheLocalTimeZone()
    {
        QFETCH(QByteArray, tz);
        {
            TestSupport::ScopedEnv zone("TZ", tz);
            ::tzset();
            QCOMPARE(QtCompat::isoUtc(1795473900123), QString("2026-11-23T22:45:00.123Z"));
            QCOMPARE(QtCompat::utcFromMs(0).time().hour(), 0);
        }
        ::tzset();
    }
};

QTEST_GUILESS_MAIN(tst_QtCompat)
#include "tst_qtcompat.moc"
