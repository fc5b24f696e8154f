#include "config.h"
#include "testsupport.h"

#include <QDir>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

using TestSupport::ScopedEnv;

namespace {
// A key's parsed value, rendered the same way whatever its type.
QString valueOf(const Config &c, const QString &key)
{
    const QHash<QString, QString> v{
        {"server.bind", c.bind},
        {"server.port", QString::number(c.port)},
        {"server.role", c.role},
        {"server.max_body_bytes", QString::number(c.maxBodyBytes)},
        {"server.max_header_bytes", QString::number(c.maxHeaderBytes)},
        {"server.max_header_count", QString::number(c.maxHeaderCount)},
        {"server.idle_timeout_s", QString::number(c.idleTimeoutS)},
        {"server.request_timeout_s", QString::number(c.requestTimeoutS)},
        {"server.max_connections", QString::number(c.maxConnections)},
        {"server.max_queue", QString::number(c.maxQueue)},
        {"server.max_wait_s", QString::number(c.maxWaitS)},
        {"server.read_access", c.readAccess},
        {"paths.workspace", c.workspace},
        {"paths.state_dir", c.stateDir},
        {"auth.secret_file", c.secretFile},
        {"auth.secret", QString::fromUtf8(c.secret)},
        {"auth.tolerance_s", QString::number(c.toleranceS)},
        {"relay.runner_url", c.runnerUrl},
        {"relay.max_attempts", QString::number(c.maxAttempts)},
        {"relay.max_age_s", QString::number(c.maxAgeS)},
        {"relay.backoff_initial_ms", QString::number(c.backoffInitialMs)},
        {"relay.backoff_max_ms", QString::number(c.backoffMaxMs)},
        {"relay.connect_timeout_s", QString::number(c.connectTimeoutS)},
        {"relay.forward_timeout_s", QString::number(c.forwardTimeoutS)},
        {"relay.failing_age_s", QString::number(c.failingAgeS)},
        {"executor.allow_commands", c.allowCommands ? "true" : "false"},
        {"executor.command_allow_list", c.commandAllowList.join('|')},
        {"executor.command_timeout_s", QString::number(c.commandTimeoutS)},
        {"executor.allow_git", c.allowGit ? "true" : "false"},
        {"executor.start_paused", c.startPaused ? "true" : "false"},
        {"log.format", c.logFormat},
    };
    return v.value(key, QStringLiteral("<no such key>"));
}

QByteArray ini(const QString &key, const QString &value)
{
    const qsizetype dot = key.indexOf('.');
    return "[" + key.left(dot).toUtf8() + "]\n" + key.mid(dot + 1).toUtf8() + " = " +
           value.toUtf8() + "\n";
}
} // namespace

class tst_Config : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_n = 0;

    QString writeIni(const QByteArray &text)
    {
        const QString path = m_dir.filePath(QStringLiteral("conf%1/ghost-runner.ini").arg(++m_n));
        TestSupport::writeFile(path, text);
        return path;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // The suite must not depend on the shell it runs in.
        for (const QString &kv : QProcessEnvironment::systemEnvironment().keys()) {
            if (kv.startsWith(QLatin1String("GHOST_RUNNER_")))
                qunsetenv(kv.toLatin1().constData());
        }
    }

    void defaults()
    {
        const Config c;
        QCOMPARE(c.bind, QStringLiteral("127.0.0.1"));
        QCOMPARE(c.port, -1);
        QCOMPARE(c.effectivePort(), 5555);
        QCOMPARE(c.role, QStringLiteral("all-in-one"));
        QCOMPARE(c.maxBodyBytes, qint64(10 * 1024 * 1024));
        QCOMPARE(c.maxHeaderBytes, 64 * 1024);
        QCOMPARE(c.idleTimeoutS, 30);
        QCOMPARE(c.requestTimeoutS, 30);
        QCOMPARE(c.readAccess, QStringLiteral("open"));
        QCOMPARE(c.allowCommands, false);
        QCOMPARE(c.allowGit, false);
        QCOMPARE(c.startPaused, false);
        QVERIFY(c.secret.isEmpty());
        QCOMPARE(c.logFormat, QStringLiteral("text"));
    }

    void effectivePort_data()
    {
        QTest::addColumn<QString>("role");
        QTest::addColumn<int>("port");
        QTest::addColumn<int>("expected");
        QTest::newRow("all-in-one default") << "all-in-one" << -1 << 5555;
        QTest::newRow("relay default") << "relay" << -1 << 5555;
        QTest::newRow("runner default") << "runner" << -1 << 5053;
        QTest::newRow("runner explicit") << "runner" << 6000 << 6000;
        QTest::newRow("zero picks a free one") << "all-in-one" << 0 << 0;
    }
    void effectivePort()
    {
        QFETCH(QString, role);
        QFETCH(int, port);
        QFETCH(int, expected);
        Config c;
        c.role = role;
        c.port = port;
        QCOMPARE(c.effectivePort(), expected);
    }

    void fileKeys_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bind") << "server.bind"
                              << "0.0.0.0"
                              << "0.0.0.0";
        QTest::newRow("bind v6") << "server.bind"
                                 << "::1"
                                 << "::1";
        QTest::newRow("port") << "server.port"
                              << "8080"
                              << "8080";
        QTest::newRow("port zero") << "server.port"
                                   << "0"
                                   << "0";
        QTest::newRow("role") << "server.role"
                              << "runner"
                              << "runner";
        QTest::newRow("max body") << "server.max_body_bytes"
                                  << "2048"
                                  << "2048";
        QTest::newRow("max header bytes") << "server.max_header_bytes"
                                          << "4096"
                                          << "4096";
        QTest::newRow("max header count") << "server.max_header_count"
                                          << "20"
                                          << "20";
        QTest::newRow("idle") << "server.idle_timeout_s"
                              << "5"
                              << "5";
        QTest::newRow("request timeout") << "server.request_timeout_s"
                                         << "7"
                                         << "7";
        QTest::newRow("max connections") << "server.max_connections"
                                         << "3"
                                         << "3";
        QTest::newRow("max queue") << "server.max_queue"
                                   << "100"
                                   << "100";
        QTest::newRow("max wait") << "server.max_wait_s"
                                  << "0"
                                  << "0";
        QTest::newRow("read access") << "server.read_access"
                                     << "token"
                                     << "token";
        QTest::newRow("workspace absolute") << "paths.workspace"
                                            << "/srv/ws"
                                            << "/srv/ws";
        QTest::newRow("state dir absolute") << "paths.state_dir"
                                            << "/var/lib/gr"
                                            << "/var/lib/gr";
        QTest::newRow("secret file absolute") << "auth.secret_file"
                                              << "/etc/gr/secret"
                                              << "/etc/gr/secret";
        QTest::newRow("inline secret") << "auth.secret"
                                       << "s3cret"
                                       << "s3cret";
        QTest::newRow("tolerance") << "auth.tolerance_s"
                                   << "60"
                                   << "60";
        QTest::newRow("runner url") << "relay.runner_url"
                                    << "http://10.0.0.2:5053/"
                                    << "http://10.0.0.2:5053";
        QTest::newRow("runner url https") << "relay.runner_url"
                                          << "https://runner.example"
                                          << "https://runner.example";
        QTest::newRow("max attempts") << "relay.max_attempts"
                                      << "4"
                                      << "4";
        QTest::newRow("max age") << "relay.max_age_s"
                                 << "120"
                                 << "120";
        QTest::newRow("backoff initial") << "relay.backoff_initial_ms"
                                         << "50"
                                         << "50";
        QTest::newRow("backoff max") << "relay.backoff_max_ms"
                                     << "900"
                                     << "900";
        QTest::newRow("connect timeout") << "relay.connect_timeout_s"
                                         << "2"
                                         << "2";
        QTest::newRow("forward timeout") << "relay.forward_timeout_s"
                                         << "9"
                                         << "9";
        QTest::newRow("failing age") << "relay.failing_age_s"
                                     << "30"
                                     << "30";
        QTest::newRow("allow commands true") << "executor.allow_commands"
                                             << "true"
                                             << "true";
        QTest::newRow("allow commands yes") << "executor.allow_commands"
                                            << "yes"
                                            << "true";
        QTest::newRow("allow commands 0") << "executor.allow_commands"
                                          << "0"
                                          << "false";
        QTest::newRow("allow list one") << "executor.command_allow_list"
                                        << "^make$"
                                        << "^make$";
        QTest::newRow("allow list two") << "executor.command_allow_list"
                                        << "^make$, ^npm test$"
                                        << "^make$|^npm test$";
        QTest::newRow("command timeout") << "executor.command_timeout_s"
                                         << "15"
                                         << "15";
        QTest::newRow("allow git") << "executor.allow_git"
                                   << "on"
                                   << "true";
        QTest::newRow("start paused") << "executor.start_paused"
                                      << "TRUE"
                                      << "true";
        QTest::newRow("log format") << "log.format"
                                    << "json"
                                    << "json";
    }
    void fileKeys()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        QVERIFY2(Config::knownKeys().contains(key), qPrintable(key));
        Config c;
        const QString path = writeIni(ini(key, value));
        const Status s = c.loadFile(path);
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QVERIFY2(c.warnings.isEmpty(), qPrintable(c.warnings.join('\n')));
        QCOMPARE(valueOf(c, key), expected);
        QCOMPARE(c.configFile, QFileInfo(path).absoluteFilePath());
    }

    void everyKnownKeyIsTested()
    {
        // fileKeys_data() has a row for every key; a new key without one fails here.
        for (const QString &key : Config::knownKeys())
            QVERIFY2(valueOf(Config(), key) != QLatin1String("<no such key>"), qPrintable(key));
    }

    void badValuesNameFileAndKey_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::newRow("bind not an address") << "server.bind"
                                             << "localhost";
        QTest::newRow("port text") << "server.port"
                                   << "http";
        QTest::newRow("port too big") << "server.port"
                                      << "70000";
        QTest::newRow("port negative") << "server.port"
                                       << "-1";
        QTest::newRow("port trailing junk") << "server.port"
                                            << "80x";
        QTest::newRow("role") << "server.role"
                              << "proxy";
        QTest::newRow("max body too small") << "server.max_body_bytes"
                                            << "10";
        QTest::newRow("max body text") << "server.max_body_bytes"
                                       << "10MB";
        QTest::newRow("header count zero") << "server.max_header_count"
                                           << "0";
        QTest::newRow("idle zero") << "server.idle_timeout_s"
                                   << "0";
        QTest::newRow("read access") << "server.read_access"
                                     << "public";
        QTest::newRow("runner url scheme") << "relay.runner_url"
                                           << "ftp://runner";
        QTest::newRow("runner url no host") << "relay.runner_url"
                                            << "http://";
        QTest::newRow("max attempts zero") << "relay.max_attempts"
                                           << "0";
        QTest::newRow("bool") << "executor.allow_commands"
                              << "maybe";
        QTest::newRow("log format") << "log.format"
                                    << "xml";
        QTest::newRow("empty inline secret") << "auth.secret"
                                             << "";
    }
    void badValuesNameFileAndKey()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        Config c;
        const QString path = writeIni(ini(key, value));
        const Status s = c.loadFile(path);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QStringLiteral("config_invalid"));
        QVERIFY2(s.error().message.contains(path), qPrintable(s.error().message));
        QVERIFY2(s.error().message.contains(key), qPrintable(s.error().message));
    }

    void missingFileFails()
    {
        Config c;
        const QString path = m_dir.filePath("nope.ini");
        const Status s = c.loadFile(path);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QStringLiteral("config_invalid"));
        QVERIFY(s.error().message.contains(path));
        QVERIFY(!c.loadFile(m_dir.path()).ok()); // a directory is not a file
    }

    void unknownKeysBecomeWarnings()
    {
        Config c;
        const QString path = writeIni("[server]\nport = 7000\nprot = 7001\n[nonsense]\nx = 1\n");
        QVERIFY(c.loadFile(path).ok());
        QCOMPARE(c.port, 7000);
        QCOMPARE(c.warnings.size(), 2);
        QVERIFY2(c.warnings.join('\n').contains("server.prot"), qPrintable(c.warnings.join('\n')));
        QVERIFY(c.warnings.join('\n').contains("nonsense.x"));
        QVERIFY(c.warnings.first().contains(path));
    }

    void relativePathsResolveAgainstTheFile()
    {
        Config c;
        const QString path = writeIni("[paths]\nworkspace = ws\nstate_dir = ../state\n"
                                      "[auth]\nsecret_file = secret.txt\n");
        const QDir dir = QFileInfo(path).absoluteDir();
        QVERIFY(c.loadFile(path).ok());
        QCOMPARE(QDir::cleanPath(c.workspace), dir.absoluteFilePath("ws"));
        QCOMPARE(QDir::cleanPath(c.stateDir), QDir::cleanPath(dir.absoluteFilePath("../state")));
        QCOMPARE(QDir::cleanPath(c.secretFile), dir.absoluteFilePath("secret.txt"));
    }

    void environmentOverridesFile()
    {
        Config c;
        QVERIFY(c.loadFile(writeIni("[server]\nport = 7000\nrole = relay\n")).ok());
        ScopedEnv port("GHOST_RUNNER_PORT", "7100");
        QVERIFY(c.loadEnvironment().ok());
        QCOMPARE(c.port, 7100);
        QCOMPARE(c.role, QStringLiteral("relay")); // untouched by the environment
    }

    void badEnvironmentValueNamesTheVariable()
    {
        Config c;
        ScopedEnv port("GHOST_RUNNER_PORT", "many");
        const Status s = c.loadEnvironment();
        QVERIFY(!s.ok());
        QVERIFY2(s.error().message.contains("GHOST_RUNNER_PORT"), qPrintable(s.error().message));
        QVERIFY(s.error().message.contains("server.port"));
    }

    void environmentKeys_data()
    {
        QTest::addColumn<QByteArray>("variable");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::newRow("bind") << QByteArray("GHOST_RUNNER_BIND") << "server.bind"
                              << "::1";
        QTest::newRow("role") << QByteArray("GHOST_RUNNER_ROLE") << "server.role"
                              << "runner";
        QTest::newRow("read access")
            << QByteArray("GHOST_RUNNER_READ_ACCESS") << "server.read_access"
            << "loopback";
        QTest::newRow("workspace") << QByteArray("GHOST_RUNNER_WORKSPACE") << "paths.workspace"
                                   << "/srv/ws";
        QTest::newRow("state dir") << QByteArray("GHOST_RUNNER_STATE_DIR") << "paths.state_dir"
                                   << "/srv/state";
        QTest::newRow("secret file") << QByteArray("GHOST_RUNNER_SECRET_FILE") << "auth.secret_file"
                                     << "/srv/secret";
        QTest::newRow("runner url") << QByteArray("GHOST_RUNNER_RUNNER_URL") << "relay.runner_url"
                                    << "http://127.0.0.1:5053";
        QTest::newRow("allow commands")
            << QByteArray("GHOST_RUNNER_ALLOW_COMMANDS") << "executor.allow_commands"
            << "true";
        QTest::newRow("log format") << QByteArray("GHOST_RUNNER_LOG_FORMAT") << "log.format"
                                    << "json";
    }
    void environmentKeys()
    {
        QFETCH(QByteArray, variable);
        QFETCH(QString, key);
        QFETCH(QString, value);
        Config c;
        ScopedEnv env(variable.constData(), value.toUtf8());
        QVERIFY(c.loadEnvironment().ok());
        QCOMPARE(valueOf(c, key), value);
    }

    void finalizeErrors_data()
    {
        QTest::addColumn<QByteArray>("iniText");
        QTest::addColumn<QString>("mentions"); // what the message must name
        QTest::newRow("relay without runner url")
            << QByteArray("[server]\nrole = relay\n") << "runner";
        QTest::newRow("all interfaces without secret")
            << QByteArray("[server]\nbind = 0.0.0.0\n") << "0.0.0.0";
        QTest::newRow("lan address without secret")
            << QByteArray("[server]\nbind = 10.1.2.3\n") << "10.1.2.3";
        QTest::newRow("read access token without secret")
            << QByteArray("[server]\nread_access = token\n") << "read_access";
        QTest::newRow("missing secret file")
            << QByteArray("[auth]\nsecret_file = missing.txt\n") << "missing.txt";
        QTest::newRow("empty secret file")
            << QByteArray("[auth]\nsecret_file = empty.txt\n") << "empty.txt";
        QTest::newRow("blank secret file")
            << QByteArray("[auth]\nsecret_file = blank.txt\n") << "blank.txt";
        QTest::newRow("secret file is a directory")
            << QByteArray("[auth]\nsecret_file = adir\n") << "adir";
        QTest::newRow("backoff max below initial")
            << QByteArray("[relay]\nbackoff_initial_ms = 500\nbackoff_max_ms = 100\n")
            << "backoff_max_ms";
    }
    void finalizeErrors()
    {
        QFETCH(QByteArray, iniText);
        QFETCH(QString, mentions);
        Config c;
        const QString path = writeIni(iniText + "[paths]\nstate_dir = state\nworkspace = ws\n");
        const QDir dir = QFileInfo(path).absoluteDir();
        TestSupport::writeFile(dir.filePath("empty.txt"), "");
        TestSupport::writeFile(dir.filePath("blank.txt"), " \n\t\n");
        dir.mkpath("adir");
        QVERIFY(c.loadFile(path).ok());
        const Status s = c.finalize();
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QStringLiteral("config_invalid"));
        QVERIFY2(s.error().message.contains(mentions), qPrintable(s.error().message));
    }

    void finalizeAccepts_data()
    {
        QTest::addColumn<QByteArray>("iniText");
        QTest::newRow("defaults") << QByteArray();
        QTest::newRow("relay with url")
            << QByteArray("[server]\nrole = relay\n[relay]\nrunner_url = http://127.0.0.1:5053\n");
        QTest::newRow("v6 loopback without secret") << QByteArray("[server]\nbind = ::1\n");
        QTest::newRow("all interfaces with secret")
            << QByteArray("[server]\nbind = 0.0.0.0\n[auth]\nsecret_file = secret.txt\n");
        QTest::newRow("token read access with secret")
            << QByteArray("[server]\nread_access = token\n[auth]\nsecret_file = secret.txt\n");
        QTest::newRow("inline secret on all interfaces")
            << QByteArray("[server]\nbind = 0.0.0.0\n[auth]\nsecret = inline-secret\n");
    }
    void finalizeAccepts()
    {
        QFETCH(QByteArray, iniText);
        Config c;
        const QString path = writeIni(iniText + "[paths]\nstate_dir = state\nworkspace = ws\n");
        TestSupport::writeFile(QFileInfo(path).absoluteDir().filePath("secret.txt"), "s\n");
        QVERIFY(c.loadFile(path).ok());
        const Status s = c.finalize();
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QVERIFY(QDir::isAbsolutePath(c.stateDir));
        QVERIFY(QDir::isAbsolutePath(c.workspace));
    }

    void secretFileIsTrimmed()
    {
        Config c;
        const QString secretPath = m_dir.filePath("trim/secret");
        TestSupport::writeFile(secretPath, "  \tsh4red-secret \r\n\n");
        c.secretFile = secretPath;
        c.stateDir = m_dir.filePath("state");
        QVERIFY(c.finalize().ok());
        QCOMPARE(c.secret, QByteArray("sh4red-secret"));
    }

    void toIniMasksTheSecret()
    {
        Config c;
        const QString secretPath = m_dir.filePath("mask/secret");
        TestSupport::writeFile(secretPath, "do-not-print-me\n");
        c.secretFile = secretPath;
        c.stateDir = m_dir.filePath("state");
        c.role = QStringLiteral("runner");
        QVERIFY(c.finalize().ok());
        const QString text = c.toIni();
        QVERIFY(!text.contains("do-not-print-me"));
        QVERIFY(text.contains("secret = ********"));
        QVERIFY(text.contains("port = 5053"));
        QVERIFY(text.contains("role = runner"));
        QVERIFY(text.contains(secretPath));

        Config none;
        QVERIFY(none.toIni().contains("secret = (none)"));
    }

    void toIniReadsBack()
    {
        // The effective configuration is itself a valid configuration file.
        Config c;
        c.port = 6001;
        c.maxQueue = 77;
        c.commandAllowList = QStringList{"^make$", "^npm test$"};
        c.allowCommands = true;
        const QString path = writeIni(c.toIni().toUtf8());
        Config back;
        const Status s = back.loadFile(path);
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QCOMPARE(back.port, 6001);
        QCOMPARE(back.maxQueue, 77);
        QCOMPARE(back.allowCommands, true);
        QCOMPARE(back.commandAllowList, c.commandAllowList);
        QVERIFY2(back.warnings.isEmpty(), qPrintable(back.warnings.join('\n')));

        // The masked secret line does not read back as a secret.
        Config secret;
        secret.secret = "real-secret";
        Config secretBack;
        QVERIFY(secretBack.loadFile(writeIni(secret.toIni().toUtf8())).ok());
        QVERIFY(secretBack.secret.isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_Config)
#include "tst_config.moc"
