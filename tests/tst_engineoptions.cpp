#include "engineoptions.h"
#include "testsupport.h"

#include <QDir>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

using TestSupport::ScopedEnv;

class tst_EngineOptions : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    // Parses a fake command line the way `ghost-runner serve` does and layers it into a Config.
    static Result<Config> build(const QStringList &args)
    {
        QCommandLineParser p;
        EngineOptions::addTo(p);
        if (!p.parse(QStringList{"ghost-runner"} + args))
            return makeError("usage", p.errorText());
        return EngineOptions::build(p);
    }

    QString configFile() const { return m_dir.filePath("etc/ghost-runner.ini"); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        for (const QString &k : QProcessEnvironment::systemEnvironment().keys()) {
            if (k.startsWith(QLatin1String("GHOST_RUNNER_")))
                qunsetenv(k.toLatin1().constData());
        }
        TestSupport::writeFile(configFile(), "[server]\nport = 7000\nrole = runner\n"
                                             "[paths]\nstate_dir = state\nworkspace = ws\n");
        TestSupport::writeFile(m_dir.filePath("secret"), "flag-secret\n");
    }

    void addsTheSharedFlags()
    {
        QCommandLineParser p;
        EngineOptions::addTo(p);
        const QStringList names{"config",    "bind", "port",       "workspace",
                                "state-dir", "role", "runner-url", "secret-file"};
        for (const QString &n : names)
            QVERIFY2(p.parse({"x", "--" + n, "v"}), qPrintable(n + ": " + p.errorText()));
        QVERIFY(!p.parse({"x", "--no-such-flag"}));
    }

    void defaultsWithoutAnything()
    {
        const QString cwd = QDir::currentPath();
        QVERIFY(QDir::setCurrent(m_dir.path()));
        const Result<Config> c = build({"--state-dir", m_dir.filePath("st")});
        QDir::setCurrent(cwd);
        QVERIFY2(c.ok(), qPrintable(c.error().message));
        QCOMPARE(c->bind, QStringLiteral("127.0.0.1"));
        QCOMPARE(c->effectivePort(), 5555);
        QCOMPARE(c->role, QStringLiteral("all-in-one"));
        QCOMPARE(c->workspace, QDir::cleanPath(m_dir.path())); // the current directory
        QVERIFY(c->configFile.isEmpty());
    }

    // Which layer wins for the port: defaults < file < environment < flags.
    void precedence_data()
    {
        QTest::addColumn<bool>("file");
        QTest::addColumn<QByteArray>("env");
        QTest::addColumn<QString>("flag");
        QTest::addColumn<int>("expected");
        QTest::newRow("default (file says runner)") << true << QByteArray() << "" << 7000;
        QTest::newRow("env beats file") << true << QByteArray("7100") << "" << 7100;
        QTest::newRow("flag beats env") << true << QByteArray("7100") << "7200" << 7200;
        QTest::newRow("flag beats file") << true << QByteArray() << "7200" << 7200;
        QTest::newRow("env alone") << false << QByteArray("7100") << "" << 7100;
        QTest::newRow("nothing") << false << QByteArray() << "" << 5555;
    }
    void precedence()
    {
        QFETCH(bool, file);
        QFETCH(QByteArray, env);
        QFETCH(QString, flag);
        QFETCH(int, expected);
        ScopedEnv port("GHOST_RUNNER_PORT", env);
        QStringList args{"--state-dir", m_dir.filePath("st"), "--workspace", m_dir.path()};
        if (file)
            args << "--config" << configFile();
        if (!flag.isEmpty())
            args << "--port" << flag;
        const Result<Config> c = build(args);
        QVERIFY2(c.ok(), qPrintable(c.error().message));
        QCOMPARE(c->effectivePort(), expected);
        QVERIFY(qgetenv("GHOST_RUNNER_PORT") == env); // restored by ScopedEnv afterwards
    }

    void configFileFromEnvironment()
    {
        ScopedEnv cfg("GHOST_RUNNER_CONFIG", configFile().toUtf8());
        const Result<Config> c = build({});
        QVERIFY2(c.ok(), qPrintable(c.error().message));
        QCOMPARE(c->role, QStringLiteral("runner"));
        QCOMPARE(c->effectivePort(), 7000);
        QCOMPARE(c->configFile, configFile());
        // Relative paths in the file resolved against the file, not the current directory.
        QCOMPARE(c->stateDir, QDir::cleanPath(m_dir.filePath("etc/state")));
        QCOMPARE(c->workspace, QDir::cleanPath(m_dir.filePath("etc/ws")));
    }

    void flagConfigBeatsEnvironmentConfig()
    {
        ScopedEnv cfg("GHOST_RUNNER_CONFIG", m_dir.filePath("does-not-exist.ini").toUtf8());
        const Result<Config> c = build({"--config", configFile()});
        QVERIFY2(c.ok(), qPrintable(c.error().message));
        QCOMPARE(c->role, QStringLiteral("runner"));
    }

    void flagsSetTheirKeys()
    {
        const Result<Config> c =
            build({"--bind", "0.0.0.0", "--port", "0", "--role", "relay", "--runner-url",
                   "http://127.0.0.1:5053/", "--secret-file", m_dir.filePath("secret"),
                   "--state-dir", m_dir.filePath("st"), "--workspace", m_dir.filePath("w")});
        QVERIFY2(c.ok(), qPrintable(c.error().message));
        QCOMPARE(c->bind, QStringLiteral("0.0.0.0"));
        QCOMPARE(c->effectivePort(), 0);
        QCOMPARE(c->role, QStringLiteral("relay"));
        QCOMPARE(c->runnerUrl, QStringLiteral("http://127.0.0.1:5053"));
        QCOMPARE(c->secret, QByteArray("flag-secret"));
        QCOMPARE(c->stateDir, m_dir.filePath("st"));
        QCOMPARE(c->workspace, m_dir.filePath("w"));
    }

    void errorsNameTheirSource_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QByteArray>("envPort");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("bad flag") << QStringList({"--port", "x"}) << QByteArray() << "--port";
        QTest::newRow("bad role flag")
            << QStringList({"--role", "boss"}) << QByteArray() << "--role";
        QTest::newRow("bad env") << QStringList() << QByteArray("x") << "GHOST_RUNNER_PORT";
        QTest::newRow("missing config") << QStringList({"--config", "/nonexistent/gr.ini"})
                                        << QByteArray() << "/nonexistent/gr.ini";
        QTest::newRow("relay without url")
            << QStringList({"--role", "relay"}) << QByteArray() << "runner";
        QTest::newRow("public bind without secret")
            << QStringList({"--bind", "0.0.0.0"}) << QByteArray() << "0.0.0.0";
        QTest::newRow("missing secret file")
            << QStringList({"--secret-file", "/nonexistent/secret"}) << QByteArray()
            << "/nonexistent/secret";
    }
    void errorsNameTheirSource()
    {
        QFETCH(QStringList, args);
        QFETCH(QByteArray, envPort);
        QFETCH(QString, mentions);
        ScopedEnv port("GHOST_RUNNER_PORT", envPort);
        const Result<Config> c = build(args + QStringList{"--state-dir", m_dir.filePath("st")});
        QVERIFY(!c.ok());
        QCOMPARE(c.error().code, QStringLiteral("config_invalid"));
        QVERIFY2(c.error().message.contains(mentions), qPrintable(c.error().message));
    }
};

QTEST_GUILESS_MAIN(tst_EngineOptions)
#include "tst_engineoptions.moc"
