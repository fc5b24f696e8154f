#include "commandrunner.h"

#include <QTemporaryDir>
#include <QTest>

class tst_CommandRunner : public QObject
{
    Q_OBJECT
private slots:
    void offByDefault()
    {
        CommandRunner r;
        QCOMPARE(r.check("true").error().code, QString("command_not_allowed"));
        QCOMPARE(r.run("true", ".").error().code, QString("command_not_allowed"));
    }
    void allowList_data()
    {
        QTest::addColumn<QStringList>("list");
        QTest::addColumn<QString>("command");
        QTest::addColumn<bool>("allowed");
        QTest::newRow("empty list allows") << QStringList() << "make test" << true;
        QTest::newRow("exact") << QStringList{"make test"} << "make test" << true;
        QTest::newRow("full match only") << QStringList{"make test"} << "make test; rm -rf /" << false;
        QTest::newRow("pattern") << QStringList{"npm (test|run lint)"} << "npm run lint" << true;
        QTest::newRow("pattern miss") << QStringList{"npm (test|run lint)"} << "npm install evil" << false;
        QTest::newRow("second entry") << QStringList{"a", "b.*"} << "bcd" << true;
        QTest::newRow("empty command") << QStringList() << "  " << false;
    }
    void allowList()
    {
        QFETCH(QStringList, list);
        QFETCH(QString, command);
        QFETCH(bool, allowed);
        CommandRunner r({true, list, 5000, 1024});
        QCOMPARE(r.check(command).ok(), allowed);
    }
    void capturesOutputInWorkdir()
    {
        QTemporaryDir dir;
        CommandRunner r({true, {}, 5000, 1 << 16});
        const Result<QString> out = r.run("pwd; echo hello", dir.path());
        QVERIFY2(out.ok(), qPrintable(out.error().message));
        QVERIFY(out->contains(QDir(dir.path()).canonicalPath()));
        QVERIFY(out->contains("hello"));
    }
    void failureCarriesOutput()
    {
        CommandRunner r({true, {}, 5000, 1 << 16});
        const Result<QString> out = r.run("echo broken >&2; exit 3", ".");
        QVERIFY(!out.ok());
        QCOMPARE(out.error().code, QString("command_failed"));
        QVERIFY(out.error().message.contains("exit status 3"));
        QVERIFY(out.error().detail.contains("broken"));
    }
    void timeoutKills()
    {
        CommandRunner r({true, {}, 200, 1024});
        const Result<QString> out = r.run("sleep 20", ".");
        QCOMPARE(out.error().code, QString("command_timeout"));
    }
    void cleanEnvironment()
    {
        qputenv("GR_TEST_SECRET_VALUE", "leak");
        CommandRunner r({true, {}, 5000, 1 << 16});
        const Result<QString> out = r.run("echo \"[$GR_TEST_SECRET_VALUE]\"; command -v sh", ".");
        qunsetenv("GR_TEST_SECRET_VALUE");
        QVERIFY(out.ok());
        QVERIFY(out->contains("[]"));
        QVERIFY(out->contains("/sh"));
    }
    void outputIsBounded()
    {
        CommandRunner r({true, {}, 5000, 100});
        const Result<QString> out = r.run("head -c 5000 /dev/zero | tr '\\\\0' x", ".");
        QVERIFY(out.ok());
        QVERIFY(out->size() < 200);
        QVERIFY(out->contains("[output truncated]"));
    }
};

QTEST_GUILESS_MAIN(tst_CommandRunner)
#include "tst_commandrunner.moc"
