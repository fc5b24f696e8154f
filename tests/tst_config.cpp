#include "config.h"
#include "engineoptions.h"
#include "testsupport.h"

#include <QTemporaryDir>
#include <QTest>

class tst_Config : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString write(const QByteArray &ini)
    {
        TestSupport::writeTree(m_dir.path(), {{"c.ini", ini}});
        return m_dir.path() + "/c.ini";
    }

private slots:
    void cleanup()
    {
        qunsetenv("GHOST_RUNNER_PORT");
        qunsetenv("GHOST_RUNNER_ROLE");
    }

    void defaults()
    {
        Config c;
        QCOMPARE(c.bind, QString("127.0.0.1"));
        QCOMPARE(c.effectivePort(), 5555);
        c.role = "runner";
        QCOMPARE(c.effectivePort(), 5053);
        QCOMPARE(c.maxBodyBytes, qint64(10 * 1024 * 1024));
        QVERIFY(!c.allowCommands);
    }

    void fileKeys()
    {
        TestSupport::writeTree(m_dir.path(), {{"secret.txt", "  s3cret \n"}});
        Config c;
        const Status s = c.loadFile(write("[server]\nport = 6000\nrole = relay\nmax_body_bytes = 2048\n"
                                          "[paths]\nworkspace = ws\n[auth]\nsecret_file = secret.txt\n"
                                          "[relay]\nrunner_url = http://127.0.0.1:7000/\nmax_attempts = 3\n"
                                          "[executor]\nallow_commands = yes\n"));
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QCOMPARE(c.port, 6000);
        QCOMPARE(c.role, QString("relay"));
        QCOMPARE(c.maxBodyBytes, qint64(2048));
        QCOMPARE(c.workspace, m_dir.path() + "/ws"); // relative to the file
        QCOMPARE(c.runnerUrl, QString("http://127.0.0.1:7000"));
        QCOMPARE(c.maxAttempts, 3);
        QVERIFY(c.allowCommands);
        QVERIFY(c.finalize().ok());
        QCOMPARE(c.secret, QByteArray("s3cret"));
        QVERIFY(!c.toIni().contains("s3cret"));
        QVERIFY(c.toIni().contains("******** (set)"));
    }

    void badValues_data()
    {
        QTest::addColumn<QByteArray>("ini");
        QTest::addColumn<QString>("key");
        QTest::newRow("port text") << QByteArray("[server]\nport = http\n") << "server.port";
        QTest::newRow("port range") << QByteArray("[server]\nport = 70000\n") << "server.port";
        QTest::newRow("role") << QByteArray("[server]\nrole = boss\n") << "server.role";
        QTest::newRow("bind") << QByteArray("[server]\nbind = localhost-ish\n") << "server.bind";
        QTest::newRow("bool") << QByteArray("[executor]\nallow_commands = maybe\n") << "executor.allow_commands";
        QTest::newRow("url") << QByteArray("[relay]\nrunner_url = ftp://x\n") << "relay.runner_url";
        QTest::newRow("read access") << QByteArray("[server]\nread_access = sometimes\n") << "server.read_access";
        QTest::newRow("body") << QByteArray("[server]\nmax_body_bytes = 10\n") << "server.max_body_bytes";
    }
    void badValues()
    {
        QFETCH(QByteArray, ini);
        QFETCH(QString, key);
        Config c;
        const QString file = write(ini);
        const Status s = c.loadFile(file);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("config_invalid"));
        QVERIFY2(s.error().message.contains(file) && s.error().message.contains(key),
                 qPrintable(s.error().message));
    }

    void unknownKeysWarn()
    {
        Config c;
        QVERIFY(c.loadFile(write("[server]\nprot = 1\n")).ok());
        QCOMPARE(c.warnings.size(), 1);
        QVERIFY(c.warnings[0].contains("server.prot"));
    }

    void missingFile()
    {
        Config c;
        QVERIFY(c.loadFile(m_dir.path() + "/none.ini").error().message.contains("does not exist"));
    }

    void finalizeChecks_data()
    {
        QTest::addColumn<QByteArray>("ini");
        QTest::addColumn<QString>("words");
        QTest::newRow("relay without runner") << QByteArray("[server]\nrole = relay\n") << "runner URL";
        QTest::newRow("public bind without secret") << QByteArray("[server]\nbind = 0.0.0.0\n") << "without authentication";
        QTest::newRow("token reads without secret") << QByteArray("[server]\nread_access = token\n") << "needs a secret";
        QTest::newRow("missing secret file") << QByteArray("[auth]\nsecret_file = /nonexistent/secret\n") << "cannot read the secret file";
        QTest::newRow("backoff order") << QByteArray("[relay]\nbackoff_initial_ms = 500\nbackoff_max_ms = 100\n") << "backoff_max_ms";
    }
    void finalizeChecks()
    {
        QFETCH(QByteArray, ini);
        QFETCH(QString, words);
        Config c;
        QVERIFY(c.loadFile(write(ini)).ok());
        const Status s = c.finalize();
        QVERIFY(!s.ok());
        QVERIFY2(s.error().message.contains(words), qPrintable(s.error().message));
    }

    void emptySecretFileRefused()
    {
        TestSupport::writeTree(m_dir.path(), {{"empty", " \n"}});
        Config c;
        c.secretFile = m_dir.path() + "/empty";
        QVERIFY(c.finalize().error().message.contains("empty"));
    }

    void layering()
    {
        // defaults < file < environment < flags
        const QString file = write("[server]\nport = 6001\nrole = runner\n");
        qputenv("GHOST_RUNNER_PORT", "6002");
        QCommandLineParser p;
        EngineOptions::addTo(p);
        QVERIFY(p.parse({"x", "--config", file}));
        Result<Config> c = EngineOptions::build(p);
        QVERIFY2(c.ok(), qPrintable(c.error().message));
        QCOMPARE(c->port, 6002); // environment beats the file
        QCOMPARE(c->role, QString("runner")); // the file beats defaults
        QCommandLineParser p2;
        EngineOptions::addTo(p2);
        QVERIFY(p2.parse({"x", "--config", file, "--port", "6003"}));
        QCOMPARE(EngineOptions::build(p2)->port, 6003); // flags beat everything
        QCommandLineParser p3;
        EngineOptions::addTo(p3);
        QVERIFY(p3.parse({"x", "--port", "nope"}));
        const Result<Config> bad = EngineOptions::build(p3);
        QVERIFY(bad.error().message.startsWith("--port"));
        qputenv("GHOST_RUNNER_ROLE", "wizard");
        QCommandLineParser p4;
        EngineOptions::addTo(p4);
        QVERIFY(p4.parse({"x"}));
        QVERIFY(EngineOptions::build(p4).error().message.startsWith("GHOST_RUNNER_ROLE"));
    }
};

QTEST_GUILESS_MAIN(tst_Config)
#include "tst_config.moc"
