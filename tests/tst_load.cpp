// Intake under load (issue: intake, acceptance 7): wrk with 64 connections against /webhook of
// the real daemon for 30 s (GR_LOAD_SECONDS overrides). Every answer is 202, or a deliberate 429
// when the queue is full; wrk sees no socket errors; the daemon's memory is flat over the second
// half of the run; and afterwards every acknowledged delivery is in the confirmation log.

#include "daemonprocess.h"
#include "testsupport.h"

#include <QDir>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

namespace {
qint64 anonKb(qint64 pid)
{
    const QByteArray status = TestSupport::readFile(QStringLiteral("/proc/%1/status").arg(pid));
    for (const QByteArray &line : status.split('\n')) {
        if (line.startsWith("RssAnon:"))
            return line.mid(8).trimmed().split(' ').first().toLongLong();
    }
    return -1;
}
} // namespace

class tst_Load : public QObject
{
    Q_OBJECT
private slots:
    void wrk64ConnectionsOnlyDeliberate429sNothingLost()
    {
        const QString wrk = QStandardPaths::findExecutable("wrk");
        QVERIFY2(!wrk.isEmpty(), "wrk is missing: ./dev test installs Debian's wrk");
        const int seconds = qEnvironmentVariableIntValue("GR_LOAD_SECONDS") > 0
                                ? qEnvironmentVariableIntValue("GR_LOAD_SECONDS")
                                : 30;
        QTemporaryDir dir;
        QDir().mkpath(dir.path() + "/ws");
        TestSupport::writeFile(dir.path() + "/ws/a.txt", "x\n");
        // A bounded queue, so that a sender faster than the executor meets 429s, not memory.
        TestSupport::writeFile(dir.path() + "/gr.ini", "[server]\nmax_queue = 2000\n");
        DaemonProcess d;
        QVERIFY(d.start({"--port", "0", "--config", dir.path() + "/gr.ini", "--workspace",
                         dir.path() + "/ws", "--state-dir", dir.path() + "/state"}));

        QProcess load;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("ACK_IDS", dir.path() + "/acked.txt");
        load.setProcessEnvironment(env);
        load.start(wrk,
                   {"-t2", "-c64", QStringLiteral("-d%1s").arg(seconds), "--timeout", "10s", "-s",
                    QStringLiteral(GR_TEST_DATA "/load/count.lua"), d.baseUrl() + "/webhook"});
        QVERIFY(load.waitForStarted());
        // Sample the daemon's heap every second while wrk runs, in an event loop so that the
        // daemon's log output keeps flowing into DaemonProcess (a full pipe would stall it).
        QList<qint64> samples;
        QEventLoop loop;
        QTimer tick;
        connect(&tick, &QTimer::timeout, &loop, [&] { samples.append(anonKb(d.pid())); });
        connect(&load, &QProcess::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot((seconds + 60) * 1000, &loop, &QEventLoop::quit);
        tick.start(1000);
        loop.exec();
        tick.stop();
        QVERIFY2(load.state() == QProcess::NotRunning, "wrk did not finish");
        const QByteArray out = load.readAllStandardOutput();
        QCOMPARE(load.exitCode(), 0);
        const qsizetype at = out.indexOf("COUNT ");
        QVERIFY2(at >= 0, out.constData());
        const QJsonObject count =
            QJsonDocument::fromJson(out.mid(at + 6, out.indexOf('\n', at) - at - 6)).object();
        qInfo("wrk: %s",
              qPrintable(QString::fromUtf8(QJsonDocument(count).toJson(QJsonDocument::Compact))));

        // Only 202 (journaled) and 429 (queue full, deliberate); no socket errors.
        const qsizetype otherAt = out.indexOf("OTHER ");
        const QByteArray other =
            otherAt < 0 ? QByteArray()
                        : out.mid(otherAt + 6, out.indexOf('\n', otherAt) - otherAt - 6);
        const QJsonObject statuses = count["statuses"].toObject();
        for (auto it = statuses.begin(); it != statuses.end(); ++it)
            QVERIFY2(it.key() == "202" || it.key() == "429",
                     qPrintable(QStringLiteral("%1 answers with status %2; the first: %3")
                                    .arg(it.value().toInt())
                                    .arg(it.key(), QString::fromUtf8(other))));
        const QJsonObject errors = count["errors"].toObject();
        for (auto it = errors.begin(); it != errors.end(); ++it)
            QVERIFY2(
                it.value().toInt() == 0,
                qPrintable(
                    QStringLiteral("wrk %1 errors: %2").arg(it.key()).arg(it.value().toInt())));
        const int acknowledged = statuses["202"].toInt();
        QVERIFY2(acknowledged > 100, "the daemon acknowledged almost nothing");

        // Flat memory: the second half of the run never rises more than 10 MB (or 25%) above
        // the middle of the run, whatever the queue does.
        QVERIFY(samples.size() >= 4);
        const qint64 middle = samples.at(samples.size() / 2);
        qint64 peakLate = 0;
        for (qsizetype i = samples.size() / 2; i < samples.size(); ++i)
            peakLate = qMax(peakLate, samples.at(i));
        qInfo("daemon anonymous RSS: first %lld kB, middle %lld kB, late peak %lld kB",
              samples.first(), middle, peakLate);
        if (!TestSupport::kAddressSanitizer) // ASan's quarantine grows by design
            QVERIFY2(peakLate - middle < qMax<qint64>(10 * 1024, middle / 4),
                     qPrintable(QStringLiteral("grew from %1 to %2 kB").arg(middle).arg(peakLate)));

        // Nothing acknowledged is lost: once the queue drains, every 202 id has its line.
        const QString logPath = dir.path() + "/state/logs/delivery-confirmation.log";
        QSet<QByteArray> confirmed;
        const auto refresh = [&] {
            confirmed.clear();
            static const QRegularExpression idRe(QStringLiteral("\"id\":\"([^\"]*)\""));
            for (const QByteArray &line : TestSupport::readFile(logPath).split('\n')) {
                const auto m = idRe.match(QString::fromUtf8(line));
                if (m.hasMatch())
                    confirmed.insert(m.captured(1).toUtf8());
            }
            return confirmed.size();
        };
        QTRY_VERIFY_WITH_TIMEOUT(refresh() >= acknowledged, 120000);
        const QList<QByteArray> acked =
            TestSupport::readFile(dir.path() + "/acked.txt").split('\n');
        int lost = 0;
        for (const QByteArray &id : acked)
            lost += (!id.isEmpty() && !confirmed.contains(id)) ? 1 : 0;
        qInfo("%d acknowledged, %lld confirmed, %d lost", acknowledged, qsizetype(confirmed.size()),
              lost);
        QCOMPARE(lost, 0);
        QCOMPARE(d.terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_Load)
#include "tst_load.moc"
