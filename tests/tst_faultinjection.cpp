// Crash points: GHOST_RUNNER_CRASH_AT names exactly one point, matched exactly; anything else
// is a no-op. The crashes themselves are covered process-level (tst_daemon, tst_workspace);
// here each case runs in a forked child so that the match rule and the manner of death
// (_exit(86): no atexit handlers, no stdio flush, like kill -9) can be seen from outside.

#include "faultinjection.h"

#include <QTest>
#include <QThread>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>

namespace {
struct ChildResult
{
    bool exited = false;
    int code = -1;
    QByteArray err;
};

// Runs body in a fresh child with GHOST_RUNNER_CRASH_AT set (or unset when armed is null), then
// exits 0 if body returned. The parent never calls crashPoint, so each child reads the
// environment anew.
ChildResult inChild(const char *armed, const std::function<void()> &body)
{
    int pipeFds[2];
    if (::pipe(pipeFds) != 0)
        return {};
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0)
        return {};
    if (pid == 0) {
        ::close(pipeFds[0]);
        ::dup2(pipeFds[1], STDERR_FILENO);
        if (armed)
            ::setenv("GHOST_RUNNER_CRASH_AT", armed, 1);
        else
            ::unsetenv("GHOST_RUNNER_CRASH_AT");
        body();
        _exit(0);
    }
    ::close(pipeFds[1]);
    ChildResult r;
    char buf[512];
    ssize_t n;
    while ((n = ::read(pipeFds[0], buf, sizeof buf)) > 0)
        r.err.append(buf, int(n));
    ::close(pipeFds[0]);
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
        r.exited = true;
        r.code = WEXITSTATUS(status);
    }
    return r;
}
} // namespace

class tst_FaultInjection : public QObject
{
    Q_OBJECT
private slots:
    void matching_data()
    {
        QTest::addColumn<QByteArray>("armed"); // null: unset
        QTest::addColumn<QByteArray>("point");
        QTest::addColumn<bool>("crashes");
        QTest::newRow("unset") << QByteArray() << QByteArray("after-commit") << false;
        QTest::newRow("exact") << QByteArray("after-commit") << QByteArray("after-commit") << true;
        QTest::newRow("another point")
            << QByteArray("after-commit") << QByteArray("after-log-append") << false;
        QTest::newRow("set but empty") << QByteArray("") << QByteArray("after-commit") << false;
        QTest::newRow("prefix of the point")
            << QByteArray("after-comm") << QByteArray("after-commit") << false;
        QTest::newRow("point is a prefix")
            << QByteArray("after-commit-2") << QByteArray("after-commit") << false;
        QTest::newRow("case matters")
            << QByteArray("AFTER-COMMIT") << QByteArray("after-commit") << false;
        QTest::newRow("white space is not trimmed")
            << QByteArray(" after-commit") << QByteArray("after-commit") << false;
        QTest::newRow("one name, not a list")
            << QByteArray("after-commit,after-log-append") << QByteArray("after-commit") << false;
        QTest::newRow("workspace point")
            << QByteArray("workspace-mid-commit") << QByteArray("workspace-mid-commit") << true;
    }
    void matching()
    {
        QFETCH(QByteArray, armed);
        QFETCH(QByteArray, point);
        QFETCH(bool, crashes);
        const ChildResult r = inChild(armed.isNull() ? nullptr : armed.constData(),
                                      [&] { FaultInjection::crashPoint(point.constData()); });
        QVERIFY(r.exited);
        if (crashes) {
            QCOMPARE(r.code, 86);
            QCOMPARE(r.err, "ghost-runner: crash injected at " + point + "\n");
        } else {
            QCOMPARE(r.code, 0);
            QVERIFY2(r.err.isEmpty(), r.err.constData());
        }
    }

    void passesEveryOtherPointOnTheWay()
    {
        // A run armed for the last point walks past the earlier ones untouched.
        const ChildResult r = inChild("after-log-append", [] {
            FaultInjection::crashPoint("workspace-mid-commit");
            FaultInjection::crashPoint("after-commit");
            std::fputs("reached\n", stderr);
            FaultInjection::crashPoint("after-log-append");
            std::fputs("survived\n", stderr);
        });
        QVERIFY(r.exited);
        QCOMPARE(r.code, 86);
        QCOMPARE(r.err, QByteArray("reached\nghost-runner: crash injected at after-log-append\n"));
    }

    void diesLikeAKillNotAnExit()
    {
        static int pipeOut[2];
        QCOMPARE(::pipe(pipeOut), 0);
        const ChildResult r = inChild("after-commit", [] {
            ::dup2(pipeOut[1], STDOUT_FILENO);
            std::setvbuf(stdout, nullptr, _IOFBF, 4096);
            std::atexit([] { std::fputs("atexit ran\n", stderr); });
            std::fputs("buffered, never flushed", stdout);
            FaultInjection::crashPoint("after-commit");
        });
        ::close(pipeOut[1]);
        char buf[64];
        const ssize_t n = ::read(pipeOut[0], buf, sizeof buf);
        ::close(pipeOut[0]);
        QCOMPARE(r.code, 86);
        QVERIFY2(!r.err.contains("atexit"), r.err.constData());
        QCOMPARE(n, ssize_t(0)); // the stdio buffer died with the process
    }

    void environmentIsReadOnce()
    {
        // Points sit on hot paths: the variable is read at the first point, not at each.
        const ChildResult r = inChild(nullptr, [] {
            FaultInjection::crashPoint("after-commit");
            ::setenv("GHOST_RUNNER_CRASH_AT", "after-commit", 1);
            FaultInjection::crashPoint("after-commit");
        });
        QVERIFY(r.exited);
        QCOMPARE(r.code, 0);
    }

    // Last: from here on this process has read the variable, so no child could re-arm it.
    void unarmedIsANoOpFromAnyThread()
    {
        // In this process the variable is unset (ctest does not set it): nothing happens,
        // also when the first reads race.
        QVERIFY(qgetenv("GHOST_RUNNER_CRASH_AT").isNull());
        QList<QThread *> threads;
        for (int i = 0; i < 4; ++i) {
            threads.append(QThread::create([] {
                for (int n = 0; n < 1000; ++n) {
                    FaultInjection::crashPoint("after-commit");
                    FaultInjection::crashPoint("after-log-append");
                }
            }));
            threads.last()->start();
        }
        for (QThread *t : threads) {
            QVERIFY(t->wait(5000));
            delete t;
        }
        FaultInjection::crashPoint("workspace-mid-commit");
    }
};

QTEST_GUILESS_MAIN(tst_FaultInjection)
#include "tst_faultinjection.moc"
