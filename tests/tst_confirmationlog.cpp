#include "confirmationlog.h"
#include "testsupport.h"

#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

class tst_ConfirmationLog : public QObject
{
    Q_OBJECT
private slots:
    void linesAreOrderedJson()
    {
        QTemporaryDir dir;
        ConfirmationLog log;
        QVERIFY(log.open(dir.path() + "/logs/delivery-confirmation.log").ok());
        Outcome ok;
        ok.status = "applied";
        ok.format = "unified";
        ok.files = QJsonArray{QJsonObject{{"path", "src/a.c"}, {"action", "modified"}}};
        ok.durationMs = 1.4;
        QVERIFY(log.append("d-1", "p-1", ok).ok());
        Outcome bad = Outcome::failure("failed", "unified", makeError("hunk_failed", "hunk 2 of src/a.c did not match near line 40"));
        bad.error.file = "src/a.c";
        bad.error.hunk = 2;
        QVERIFY(log.append("d-2", "p-2", bad).ok());
        const QList<QByteArray> lines = TestSupport::readFile(log.path()).split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[2].isEmpty());
        QVERIFY(lines[0].startsWith("{\"ts\":\""));
        QVERIFY(lines[0].indexOf("\"delivery\"") < lines[0].indexOf("\"id\""));
        QVERIFY(lines[0].indexOf("\"id\"") < lines[0].indexOf("\"status\""));
        QVERIFY(lines[0].indexOf("\"status\"") < lines[0].indexOf("\"format\""));
        QVERIFY(lines[0].endsWith("\"duration_ms\":1.4}"));
        const QJsonObject second = QJsonDocument::fromJson(lines[1]).object();
        QCOMPARE(second["status"].toString(), QString("failed"));
        QCOMPARE(second["error"].toObject()["hunk"].toInt(), 2);
        QCOMPARE(second["error"].toObject()["file"].toString(), QString("src/a.c"));
        QVERIFY(second["ts"].toString().endsWith('Z'));
        QCOMPARE(log.find("d-2")->value("id").toString(), QString("p-2"));
        QVERIFY(!log.find("d-3").has_value());
    }
    void concurrentWritersNeverInterleave()
    {
        QTemporaryDir dir;
        ConfirmationLog a, b;
        const QString path = dir.path() + "/c.log";
        QVERIFY(a.open(path).ok());
        QVERIFY(b.open(path).ok());
        Outcome o;
        o.status = "applied";
        o.notes = QStringList{QString(3000, 'n')}; // long lines
        for (int i = 0; i < 200; ++i) {
            QVERIFY(a.append(QString("a%1").arg(i), "p", o).ok());
            QVERIFY(b.append(QString("b%1").arg(i), "p", o).ok());
        }
        int count = 0;
        for (const QByteArray &line : TestSupport::readFile(path).split('\n')) {
            if (line.isEmpty())
                continue;
            QVERIFY(QJsonDocument::fromJson(line).isObject());
            ++count;
        }
        QCOMPARE(count, 400);
    }
    void unwritablePathFails()
    {
        QTemporaryDir dir;
        TestSupport::writeTree(dir.path(), {{"plain", "x"}});
        ConfirmationLog log;
        const Status s = log.open(dir.path() + "/plain/sub/log");
        QCOMPARE(s.error().code, QString("log_not_writable"));
        Outcome o;
        o.status = "applied";
        QCOMPARE(log.append("d", "p", o).error().code, QString("log_not_writable"));
    }
};

QTEST_GUILESS_MAIN(tst_ConfirmationLog)
#include "tst_confirmationlog.moc"
