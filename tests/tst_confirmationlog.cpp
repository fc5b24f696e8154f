#include "confirmationlog.h"
#include "testsupport.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

namespace {
// Top-level keys of a JSON object line, in the order they were written.
QStringList topLevelKeys(const QByteArray &line)
{
    QStringList keys;
    int depth = 0;
    bool inString = false;
    QByteArray current;
    bool expectKey = false;
    for (qsizetype i = 0; i < line.size(); ++i) {
        const char c = line.at(i);
        if (inString) {
            if (c == '\\') {
                current += line.mid(i, 2);
                ++i;
            } else if (c == '"') {
                inString = false;
                if (expectKey && depth == 1)
                    keys.append(QString::fromUtf8(current));
                expectKey = false;
            } else {
                current += c;
            }
        } else if (c == '"') {
            inString = true;
            current.clear();
        } else if (c == '{' || c == '[') {
            ++depth;
            expectKey = c == '{' && depth == 1;
        } else if (c == '}' || c == ']') {
            --depth;
        } else if (c == ',' && depth == 1) {
            expectKey = true;
        }
    }
    return keys;
}

QList<QByteArray> lines(const QString &path)
{
    QList<QByteArray> out = TestSupport::readFile(path).split('\n');
    if (!out.isEmpty() && out.last().isEmpty())
        out.removeLast();
    return out;
}

Outcome applied()
{
    Outcome o;
    o.status = QStringLiteral("applied");
    o.format = QStringLiteral("unified");
    o.files = QJsonArray{QJsonObject{{"path", "src/a.c"}, {"action", "modified"}}};
    o.durationMs = 1.4;
    return o;
}

Outcome failed()
{
    Error e = makeError("hunk_failed", "hunk 2 of src/a.c did not match near line 40");
    e.file = QStringLiteral("src/a.c");
    e.hunk = 2;
    return Outcome::failure("failed", "unified", e);
}

int openFdCount()
{
    return int(QDir(QStringLiteral("/proc/self/fd"))
                   .entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot)
                   .size());
}
} // namespace

class tst_ConfirmationLog : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_n = 0;
    QString m_path;

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("logs%1/delivery-confirmation.log").arg(++m_n));
    }

    void oneValidJsonLinePerAppend_data()
    {
        QTest::addColumn<QString>("status");
        QTest::addColumn<QStringList>("keys");
        QTest::newRow("applied") << "applied"
                                 << QStringList({"ts", "delivery", "id", "status", "format",
                                                 "files", "duration_ms"});
        QTest::newRow("failed with error")
            << "failed"
            << QStringList({"ts", "delivery", "id", "status", "format", "error", "duration_ms"});
        QTest::newRow("everything")
            << "everything"
            << QStringList({"ts", "delivery", "id", "status", "format", "dry_run", "files", "notes",
                            "output", "error", "duration_ms"});
    }
    void oneValidJsonLinePerAppend()
    {
        QFETCH(QString, status);
        QFETCH(QStringList, keys);
        Outcome o = status == QLatin1String("failed") ? failed() : applied();
        if (status == QLatin1String("everything")) {
            o.status = QStringLiteral("failed");
            o.dryRun = true;
            o.notes = QStringList{"hunk 1 applied at offset +3"};
            o.output = QStringLiteral("make: *** [all] Error 1\n");
            o.error = makeError("validate_failed", "validate command failed");
        }
        ConfirmationLog log;
        const Status opened = log.open(m_path);
        QVERIFY2(opened.ok(), qPrintable(opened.error().message));
        QVERIFY(log.append("d-1", "patch \"quoted\"\nid", o).ok());
        QVERIFY(log.append("d-2", "p2", applied()).ok());

        const QByteArray text = TestSupport::readFile(m_path);
        QVERIFY(text.endsWith('\n'));
        const QList<QByteArray> all = lines(m_path);
        QCOMPARE(all.size(), 2);
        QJsonParseError pe;
        const QJsonObject first = QJsonDocument::fromJson(all[0], &pe).object();
        QCOMPARE(pe.error, QJsonParseError::NoError);
        QCOMPARE(topLevelKeys(all[0]), keys);
        QCOMPARE(first.value("delivery").toString(), QStringLiteral("d-1"));
        QCOMPARE(first.value("id").toString(), QStringLiteral("patch \"quoted\"\nid"));
        QCOMPARE(first.value("status").toString(), o.status);
        const QDateTime ts = QDateTime::fromString(first.value("ts").toString(), Qt::ISODateWithMs);
        QVERIFY(ts.isValid());
        QVERIFY(first.value("ts").toString().endsWith('Z'));
        QVERIFY(qAbs(ts.msecsTo(QDateTime::currentDateTimeUtc())) < 60000);
        if (status == QLatin1String("applied"))
            QCOMPARE(first.value("duration_ms").toDouble(), 1.4);
    }

    void errorObjectIsCarried()
    {
        ConfirmationLog log;
        QVERIFY(log.open(m_path).ok());
        QVERIFY(log.append("d-1", "p1", failed()).ok());
        const QJsonObject line = QJsonDocument::fromJson(lines(m_path).value(0)).object();
        const QJsonObject error = line.value("error").toObject();
        QCOMPARE(error.value("code").toString(), QStringLiteral("hunk_failed"));
        QCOMPARE(error.value("message").toString(),
                 QStringLiteral("hunk 2 of src/a.c did not match near line 40"));
        QCOMPARE(error.value("file").toString(), QStringLiteral("src/a.c"));
        QCOMPARE(error.value("hunk").toInt(), 2);
        QCOMPARE(Outcome::fromJson(line).error.code, QStringLiteral("hunk_failed"));
    }

    void appendsToAnExistingLog()
    {
        {
            ConfirmationLog log;
            QVERIFY(log.open(m_path).ok());
            QVERIFY(log.append("d-1", "p1", applied()).ok());
        }
        ConfirmationLog again;
        QVERIFY(again.open(m_path).ok());
        QVERIFY(again.append("d-2", "p2", applied()).ok());
        QCOMPARE(lines(m_path).size(), 2);
    }

    void findReturnsTheLastLineForADelivery()
    {
        ConfirmationLog log;
        QVERIFY(log.open(m_path).ok());
        QVERIFY(!log.find("d-1").has_value()); // empty log
        QVERIFY(log.append("d-1", "p1", failed()).ok());
        QVERIFY(log.append("d-10", "p10", applied()).ok());
        QVERIFY(log.append("d-2", "p2", applied()).ok());
        QVERIFY(log.append("d-1", "p1", applied()).ok());
        const auto found = log.find("d-1");
        QVERIFY(found.has_value());
        QCOMPARE(found->value("status").toString(), QStringLiteral("applied"));
        QCOMPARE(found->value("delivery").toString(), QStringLiteral("d-1"));
        QCOMPARE(log.find("d-10")->value("id").toString(), QStringLiteral("p10"));
        QVERIFY(!log.find("d").has_value());
        QVERIFY(!log.find("d-3").has_value());
    }

    void findSkipsATornLastLine()
    {
        ConfirmationLog log;
        QVERIFY(log.open(m_path).ok());
        QVERIFY(log.append("d-1", "p1", failed()).ok());
        // A crash in the middle of a write leaves half a line.
        const QByteArray whole = ConfirmationLog::formatLine("d-1", "p1", applied(), 0);
        QFile f(m_path);
        QVERIFY(f.open(QIODevice::Append));
        f.write(whole.left(whole.size() / 2));
        f.close();
        QCOMPARE(log.find("d-1")->value("status").toString(), QStringLiteral("failed"));
    }

    void concurrentAppendsNeverInterleave()
    {
        // Two writers on one file, as a second process would be; lines long enough to need
        // more than one write if the implementation split them.
        ConfirmationLog a, b;
        QVERIFY(a.open(m_path).ok());
        QVERIFY(b.open(m_path).ok());
        const int perWriter = 150;
        const QString big(6000, QLatin1Char('x'));
        auto writer = [&](ConfirmationLog *log, const QString &prefix, bool *ok) {
            *ok = true;
            for (int i = 0; i < perWriter; ++i) {
                Outcome o = applied();
                o.output = big;
                if (!log->append(prefix + QString::number(i), "p", o).ok())
                    *ok = false;
            }
        };
        bool okA = false, okB = false;
        QThread *ta = QThread::create(writer, &a, QStringLiteral("a-"), &okA);
        QThread *tb = QThread::create(writer, &b, QStringLiteral("b-"), &okB);
        ta->start();
        tb->start();
        QVERIFY(ta->wait(120000));
        QVERIFY(tb->wait(120000));
        delete ta;
        delete tb;
        QVERIFY(okA);
        QVERIFY(okB);
        const QList<QByteArray> all = lines(m_path);
        QCOMPARE(all.size(), 2 * perWriter);
        QSet<QString> seen;
        for (const QByteArray &line : all) {
            QJsonParseError pe;
            const QJsonObject o = QJsonDocument::fromJson(line, &pe).object();
            QCOMPARE(pe.error, QJsonParseError::NoError);
            QCOMPARE(o.value("output").toString().size(), big.size());
            seen.insert(o.value("delivery").toString());
        }
        QCOMPARE(seen.size(), 2 * perWriter);
    }

    void unwritablePathFails_data()
    {
        QTest::addColumn<QString>("relative");
        QTest::newRow("parent is a regular file") << "plain-file/delivery-confirmation.log";
        QTest::newRow("path is a directory") << "a-directory";
    }
    void unwritablePathFails()
    {
        QFETCH(QString, relative);
        TestSupport::writeTree(m_dir.path(), {{"plain-file", "x"}});
        QDir(m_dir.path()).mkpath("a-directory");
        ConfirmationLog log;
        const Status s = log.open(m_dir.filePath(relative));
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QStringLiteral("log_not_writable"));
        QVERIFY2(s.error().message.contains(m_dir.filePath(relative)),
                 qPrintable(s.error().message));
        const Status appended = log.append("d-1", "p1", applied());
        QVERIFY(!appended.ok());
        QCOMPARE(appended.error().code, QStringLiteral("log_not_writable"));
    }

    void appendWithoutOpenFails()
    {
        ConfirmationLog log;
        const Status s = log.append("d-1", "p1", applied());
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QStringLiteral("log_not_writable"));
        QVERIFY(!s.error().message.isEmpty());
    }

    void reopeningDoesNotLeakDescriptors()
    {
        const int before = openFdCount();
        {
            ConfirmationLog log;
            QVERIFY(log.open(m_path).ok());
            QVERIFY(log.open(m_path).ok());
            QVERIFY(log.open(m_path).ok());
            QVERIFY(log.append("d-1", "p1", applied()).ok());
        }
        QCOMPARE(openFdCount(), before);
        QCOMPARE(lines(m_path).size(), 1);
    }
};

QTEST_GUILESS_MAIN(tst_ConfirmationLog)
#include "tst_confirmationlog.moc"
