// CommandRunner: commands run only when allowed (off by default) and allow-listed (whole-command
// match), in the workspace, with a clean environment, a timeout and bounded output.

#include "commandrunner.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>

namespace {

CommandPolicy allowing(const QStringList &allowList = {}, int timeoutMs = 30000)
{
    CommandPolicy p;
    p.allowed = true;
    p.allowList = allowList;
    p.timeoutMs = timeoutMs;
    return p;
}

// Is pid gone (or a zombie nobody reaped, which runs no more)?
bool processGone(qint64 pid)
{
    if (::kill(pid_t(pid), 0) != 0)
        return true;
    const QByteArray stat = TestSupport::readFile(QStringLiteral("/proc/%1/stat").arg(pid));
    const qsizetype close = stat.lastIndexOf(')');
    return close > 0 && stat.mid(close + 2, 1) == "Z";
}

} // namespace

class tst_CommandRunner : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_workdir;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_workdir = QFileInfo(m_dir.path()).canonicalFilePath();
    }

    void offByDefault()
    {
        const CommandRunner runner;
        QVERIFY(!runner.policy().allowed);
        QCOMPARE(runner.check("true").error().code, QString("command_not_allowed"));
        const Result<QString> r = runner.run("touch ran-anyway", m_workdir);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QString("command_not_allowed"));
        QVERIFY2(r.error().message.contains("allow_commands"), qPrintable(r.error().message));
        QVERIFY(!QFile::exists(m_workdir + "/ran-anyway"));
    }

    void allowList_data()
    {
        QTest::addColumn<QStringList>("allowList");
        QTest::addColumn<QString>("command");
        QTest::addColumn<bool>("allowed");
        const QStringList makeTest{"make test"};
        QTest::newRow("exact") << makeTest << "make test" << true;
        QTest::newRow("chained after") << makeTest << "make test; rm -rf ~" << false;
        QTest::newRow("and-chained") << makeTest << "make test && curl evil" << false;
        QTest::newRow("longer word") << makeTest << "make tests" << false;
        QTest::newRow("prefix") << makeTest << "xmake test" << false;
        QTest::newRow("leading space") << makeTest << " make test" << false;
        QTest::newRow("newline injection") << makeTest << "make test\nrm -rf x" << false;
        QTest::newRow("substring only") << QStringList{"test"} << "make test" << false;
        const QStringList makeAny{"make( [a-z]+)?"};
        QTest::newRow("optional group, none") << makeAny << "make" << true;
        QTest::newRow("optional group, one") << makeAny << "make install" << true;
        QTest::newRow("optional group, chained") << makeAny << "make install;id" << false;
        QTest::newRow("dot does not cross lines")
            << QStringList{"npm run .*"} << "npm run lint\ncurl x | sh" << false;
        QTest::newRow("alternation")
            << QStringList{"npm (test|run lint)"} << "npm run lint" << true;
        QTest::newRow("alternation, other")
            << QStringList{"npm (test|run lint)"} << "npm run x" << false;
        QTest::newRow("second pattern matches")
            << QStringList{"make test", "cargo test( --release)?"} << "cargo test --release"
            << true;
        QTest::newRow("invalid pattern never matches")
            << QStringList{"[broken"} << "[broken" << false;
        QTest::newRow("empty list allows any") << QStringList() << "anything at all" << true;
        QTest::newRow("case matters") << makeTest << "MAKE TEST" << false;
    }
    void allowList()
    {
        QFETCH(QStringList, allowList);
        QFETCH(QString, command);
        QFETCH(bool, allowed);
        const Status s = CommandRunner(allowing(allowList)).check(command);
        QCOMPARE(s.ok(), allowed);
        if (!allowed) {
            QCOMPARE(s.error().code, QString("command_not_allowed"));
            QVERIFY(s.error().message.contains("allow_list"));
        }
    }

    // A refused command is not run.
    void refusedCommandDoesNotRun()
    {
        const Result<QString> r =
            CommandRunner(allowing({"make test"})).run("touch refused-ran", m_workdir);
        QCOMPARE(r.error().code, QString("command_not_allowed"));
        QVERIFY(!QFile::exists(m_workdir + "/refused-ran"));
    }

    void emptyCommand()
    {
        QCOMPARE(CommandRunner(allowing()).check("  ").error().code, QString("bad_patch"));
    }

    void outputCaptured_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("output");
        QTest::newRow("stdout") << "echo hello"
                                << "hello\n";
        QTest::newRow("stderr merged") << "echo out; echo err >&2"
                                       << "out\nerr\n";
        QTest::newRow("no output") << "true"
                                   << "";
        QTest::newRow("unicode") << "printf 'naïve ✓'"
                                 << "naïve ✓";
        QTest::newRow("many lines") << "seq 1 5"
                                    << "1\n2\n3\n4\n5\n";
    }
    void outputCaptured()
    {
        QFETCH(QString, command);
        QFETCH(QString, output);
        const Result<QString> r = CommandRunner(allowing()).run(command, m_workdir);
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(*r, output);
    }

    void nonZeroExit_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("inMessage");
        QTest::addColumn<QString>("detail");
        QTest::newRow("exit 3") << "echo building; echo broken >&2; exit 3"
                                << "exit status 3"
                                << "building\nbroken\n";
        QTest::newRow("false") << "false"
                               << "exit status 1"
                               << "";
        QTest::newRow("command not found") << "no-such-command-gr"
                                           << "exit status 127"
                                           << "not found";
        QTest::newRow("killed by a signal") << "echo dying; kill -9 $$"
                                            << "signal"
                                            << "dying\n";
    }
    void nonZeroExit()
    {
        QFETCH(QString, command);
        QFETCH(QString, inMessage);
        QFETCH(QString, detail);
        const Result<QString> r = CommandRunner(allowing()).run(command, m_workdir);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QString("command_failed"));
        QVERIFY2(r.error().message.contains(inMessage), qPrintable(r.error().message));
        QVERIFY2(r.error().detail.contains(detail), qPrintable(r.error().detail));
    }

    // The command under test sleeps; the runner must give up after 200 ms, not 5 s.
    void timeout()
    {
        QElapsedTimer timer;
        timer.start();
        const Result<QString> r =
            CommandRunner(allowing({}, 200)).run("echo started; sleep 5", m_workdir);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QString("command_timeout"));
        QVERIFY2(timer.elapsed() < 4000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY2(r.error().message.contains("0.2 s"), qPrintable(r.error().message));
        QCOMPARE(r.error().detail, QString("started\n"));
    }

    // What the shell started dies with it: no runaway build survives its timeout.
    void timeoutKillsChildren()
    {
        const QString pidFile = m_workdir + "/child.pid";
        const Result<QString> r =
            CommandRunner(allowing({}, 300)).run("sleep 30 & echo $! > child.pid; wait", m_workdir);
        QCOMPARE(r.error().code, QString("command_timeout"));
        bool ok = false;
        const qint64 pid = TestSupport::readFile(pidFile).trimmed().toLongLong(&ok);
        QVERIFY(ok && pid > 1);
        const auto reap = qScopeGuard([pid] { // our sleep, still running only if the test fails
            if (!processGone(pid))
                ::kill(pid_t(pid), SIGKILL);
        });
        QTRY_VERIFY_WITH_TIMEOUT(processGone(pid), 3000);
    }

    void runsInWorkdir()
    {
        QTemporaryDir other;
        QVERIFY(other.isValid());
        TestSupport::writeTree(other.path(), {{"marker.txt", "here\n"}});
        const QString dir = QFileInfo(other.path()).canonicalFilePath();
        const Result<QString> r =
            CommandRunner(allowing()).run("pwd -P; cat marker.txt; touch made.txt", dir);
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(*r, dir + "\nhere\n");
        QVERIFY(QFile::exists(dir + "/made.txt"));
        QVERIFY(!QFile::exists(m_workdir + "/made.txt"));
    }

    void missingWorkdir()
    {
        const Result<QString> r = CommandRunner(allowing()).run("true", m_workdir + "/missing");
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QString("command_failed"));
    }

    void cleanEnvironment()
    {
        qputenv("GR_TEST_SECRET_TOKEN", "s3cret");
        qputenv("LD_PRELOAD_GR_TEST", "x");
        const Result<QString> r = CommandRunner(allowing())
                                      .run("echo \"[$GR_TEST_SECRET_TOKEN]\"; echo \"$PATH\"; echo "
                                           "\"$GHOST_RUNNER_WORKSPACE\"; "
                                           "env",
                                           m_workdir);
        qunsetenv("GR_TEST_SECRET_TOKEN");
        qunsetenv("LD_PRELOAD_GR_TEST");
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        const QStringList lines = r->split('\n');
        QCOMPARE(lines.value(0), QString("[]"));
        QCOMPARE(lines.value(1), QString::fromLocal8Bit(qgetenv("PATH")));
        QCOMPARE(lines.value(2), m_workdir);
        QVERIFY2(!r->contains("s3cret"), qPrintable(*r));
        QVERIFY2(!r->contains("LD_PRELOAD_GR_TEST"), qPrintable(*r));
    }

    void outputBounded()
    {
        CommandPolicy p = allowing();
        p.maxOutputBytes = 10;
        const Result<QString> r = CommandRunner(p).run("printf 0123456789abcdef", m_workdir);
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(*r, QString("0123456789\n[output truncated]"));
    }
};

QTEST_GUILESS_MAIN(tst_CommandRunner)
#include "tst_commandrunner.moc"
