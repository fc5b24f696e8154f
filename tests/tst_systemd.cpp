// `ghost-runner serve` under systemd's Type=notify, with this test in systemd's place: it owns the
// NOTIFY_SOCKET datagram socket, and READY=1 must mean "connect now and be answered", STOPPING=1
// must come on SIGTERM before a clean exit, and WATCHDOG_USEC must bring WATCHDOG=1 pings.

#include "daemonprocess.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

// systemd's end of the protocol: an AF_UNIX datagram socket bound to a path or, for an address
// starting with '@', to a name in the abstract namespace.
class NotifySocket
{
public:
    NotifySocket() = default;
    NotifySocket(const NotifySocket &) = delete;
    NotifySocket &operator=(const NotifySocket &) = delete;
    ~NotifySocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    bool bind(const QByteArray &address)
    {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (m_fd < 0)
            return false;
        sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        if (size_t(address.size()) >= sizeof(addr.sun_path))
            return false;
        std::memcpy(addr.sun_path, address.constData(), size_t(address.size()));
        if (address.startsWith('@'))
            addr.sun_path[0] = '\0';
        const socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + size_t(address.size()));
        return ::bind(m_fd, reinterpret_cast<sockaddr *>(&addr), len) == 0;
    }

    // The next datagram, or nothing within timeoutMs (0: only what is already queued).
    std::optional<QByteArray> receive(int timeoutMs)
    {
        pollfd p{m_fd, POLLIN, 0};
        int n;
        do {
            n = ::poll(&p, 1, timeoutMs);
        } while (n < 0 && errno == EINTR);
        if (n <= 0)
            return std::nullopt;
        char buf[4096];
        const ssize_t got = ::recv(m_fd, buf, sizeof buf, 0);
        if (got < 0)
            return std::nullopt;
        const QByteArray datagram(buf, int(got));
        m_seen.append(datagram);
        return datagram;
    }

    // Waits for a datagram with the line `state` ("READY=1") and returns it.
    std::optional<QByteArray> waitFor(const QByteArray &state, int timeoutMs)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            const std::optional<QByteArray> d = receive(int(deadline.remainingTime()));
            if (d && d->split('\n').contains(state))
                return d;
        }
        return std::nullopt;
    }

    QList<QByteArray> seen() const { return m_seen; }
    QByteArray seenText() const { return m_seen.join(" | "); }

private:
    int m_fd = -1;
    QList<QByteArray> m_seen;
};

// "STATUS=listening on 127.0.0.1:PORT" → PORT.
quint16 portFromStatus(const QByteArray &datagram)
{
    static const QRegularExpression re(QStringLiteral("STATUS=.*listening on [^ ]+:(\\d+)"));
    const auto m = re.match(QString::fromUtf8(datagram));
    return m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
}

} // namespace

class tst_Systemd : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.path() + "/ws"; }
    QString state() const { return m_dir.path() + "/state"; }

    // `ghost-runner serve` as systemd starts it: NOTIFY_SOCKET set, nothing waited for here.
    void startDaemon(QProcess &p, const QByteArray &notifySocket, const QStringList &extraArgs = {},
                     const QByteArray &watchdogUsec = QByteArray(),
                     const QByteArray &watchdogPid = QByteArray())
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("GHOST_RUNNER_CONFIG");
        env.remove("WATCHDOG_USEC");
        env.remove("WATCHDOG_PID");
        env.insert("NOTIFY_SOCKET", QString::fromUtf8(notifySocket));
        if (!watchdogUsec.isEmpty())
            env.insert("WATCHDOG_USEC", QString::fromUtf8(watchdogUsec));
        if (!watchdogPid.isEmpty())
            env.insert("WATCHDOG_PID", QString::fromUtf8(watchdogPid));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(GR_BINARY),
                QStringList{"serve", "--workspace", ws(), "--state-dir", state()} +
                    (extraArgs.isEmpty() ? QStringList{"--port", "0"} : extraArgs));
    }

    QByteArray socketPath() const { return QFile::encodeName(m_dir.path() + "/notify.sock"); }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QDir(m_dir.path()).removeRecursively();
        QVERIFY(QDir().mkpath(ws()));
    }

    void readyWhenListeningStoppingOnSigterm_data()
    {
        QTest::addColumn<bool>("abstract");
        QTest::newRow("socket file") << false;
        QTest::newRow("abstract namespace") << true;
    }
    void readyWhenListeningStoppingOnSigterm()
    {
        QFETCH(bool, abstract);
        const QByteArray address =
            abstract ? "@ghost-runner-test-" + QUuid::createUuid().toByteArray(QUuid::Id128)
                     : socketPath();
        NotifySocket systemd;
        QVERIFY2(systemd.bind(address), std::strerror(errno));
        QProcess daemon;
        startDaemon(daemon, address);

        const std::optional<QByteArray> ready = systemd.waitFor("READY=1", 15000);
        QVERIFY2(ready, qPrintable("no READY=1; got: " + systemd.seenText() +
                                   daemon.readAllStandardError()));
        // Nothing was announced before READY=1.
        QCOMPARE(systemd.seen().size(), 1);
        const quint16 port = portFromStatus(*ready);
        QVERIFY2(port != 0, ready->constData());
        // READY=1 means bound and answering, at that moment: no retry loop here.
        QTcpSocket probe;
        probe.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY2(probe.waitForConnected(5000), qPrintable(probe.errorString()));
        probe.abort();
        QCOMPARE(httpGet(QStringLiteral("http://127.0.0.1:%1/health").arg(port)).status, 200);

        ::kill(pid_t(daemon.processId()), SIGTERM);
        QVERIFY2(systemd.waitFor("STOPPING=1", 15000),
                 qPrintable("no STOPPING=1; got: " + systemd.seenText()));
        QVERIFY(daemon.waitForFinished(15000));
        QCOMPARE(daemon.exitStatus(), QProcess::NormalExit);
        QCOMPARE(daemon.exitCode(), 0);
        // Nothing after STOPPING=1 (in particular no second READY=1).
        QVERIFY2(!systemd.receive(0), qPrintable(systemd.seenText()));
    }

    void watchdogPings()
    {
        NotifySocket systemd;
        QVERIFY(systemd.bind(socketPath()));
        QProcess daemon;
        // 200 ms: the daemon pings every 100 ms (half the interval, as sd_watchdog_enabled
        // advises).
        startDaemon(daemon, socketPath(), {}, "200000");
        QVERIFY2(systemd.waitFor("READY=1", 15000), qPrintable(systemd.seenText()));
        QElapsedTimer sinceReady;
        sinceReady.start();
        for (int i = 0; i < 3; ++i)
            QVERIFY2(systemd.waitFor("WATCHDOG=1", 5000),
                     qPrintable(QStringLiteral("ping %1 missing; got: ").arg(i + 1) +
                                systemd.seenText()));
        // Three pings at 100 ms each: well within the 200 ms budget each time, not bunched up.
        QVERIFY2(sinceReady.elapsed() < 3000, qPrintable(QString::number(sinceReady.elapsed())));
        ::kill(pid_t(daemon.processId()), SIGTERM);
        QVERIFY(systemd.waitFor("STOPPING=1", 15000));
        QVERIFY(daemon.waitForFinished(15000));
        QCOMPARE(daemon.exitCode(), 0);
    }

    // WATCHDOG_PID naming another process (variables inherited from a start script, say): the
    // watchdog is not this daemon's, and it must not ping for it (sd_watchdog_enabled).
    void anotherProcesssWatchdogIsLeftAlone()
    {
        NotifySocket systemd;
        QVERIFY(systemd.bind(socketPath()));
        QProcess daemon;
        startDaemon(daemon, socketPath(), {}, "100000", QByteArray::number(qint64(::getpid())));
        QVERIFY2(systemd.waitFor("READY=1", 15000), qPrintable(systemd.seenText()));
        // Pings would come every 50 ms: six intervals without one.
        QVERIFY2(!systemd.waitFor("WATCHDOG=1", 300), qPrintable(systemd.seenText()));
        ::kill(pid_t(daemon.processId()), SIGTERM);
        QVERIFY(systemd.waitFor("STOPPING=1", 15000));
        QVERIFY(daemon.waitForFinished(15000));
        QCOMPARE(daemon.exitCode(), 0);
    }

    void reloadAnnouncesReadyAgain()
    {
        NotifySocket systemd;
        QVERIFY(systemd.bind(socketPath()));
        QProcess daemon;
        startDaemon(daemon, socketPath());
        const std::optional<QByteArray> ready = systemd.waitFor("READY=1", 15000);
        QVERIFY(ready);
        ::kill(pid_t(daemon.processId()), SIGHUP);
        const std::optional<QByteArray> reloaded = systemd.waitFor("READY=1", 15000);
        QVERIFY2(reloaded, qPrintable(systemd.seenText()));
        QVERIFY2(reloaded->contains("STATUS=reloaded"), reloaded->constData());
        QCOMPARE(portFromStatus(*reloaded), portFromStatus(*ready));
        ::kill(pid_t(daemon.processId()), SIGTERM);
        QVERIFY(daemon.waitForFinished(15000));
        QCOMPARE(daemon.exitCode(), 0);
    }

    void noReadyWhenItCannotStart()
    {
        QTcpServer holder;
        QVERIFY(holder.listen(QHostAddress::LocalHost, 0));
        NotifySocket systemd;
        QVERIFY(systemd.bind(socketPath()));
        QProcess daemon;
        startDaemon(daemon, socketPath(), {"--port", QString::number(holder.serverPort())});
        QVERIFY(daemon.waitForFinished(15000));
        QCOMPARE(daemon.exitCode(), 3);
        // Every datagram it sent is queued by now: there must be none.
        QVERIFY2(!systemd.receive(0), qPrintable(systemd.seenText()));
    }
};

QTEST_GUILESS_MAIN(tst_Systemd)
#include "tst_systemd.moc"
