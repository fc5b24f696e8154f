// IniFile: keys set in place in a file a person wrote, read back by QSettings as given.

#include "config.h"
#include "inifile.h"
#include "testsupport.h"

#include <QFile>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

using Assignments = QList<IniFile::Assignment>;

class tst_IniFile : public QObject
{
    Q_OBJECT

private slots:
    void editsInPlace_data()
    {
        QTest::addColumn<QByteArray>("before");
        QTest::addColumn<Assignments>("set");
        QTest::addColumn<QByteArray>("after");

        const QByteArray commented = "; Ghost Runner, written by hand\n"
                                     "[server]\n"
                                     "# the loopback only\n"
                                     "bind = 127.0.0.1   \n"
                                     "port=5555\n"
                                     "\n"
                                     "[paths]\n"
                                     "workspace = /srv/ws ; old\n";
        QTest::newRow("comments, spacing and order kept")
            << commented << Assignments{{"server/port", "6000"}}
            << QByteArray("; Ghost Runner, written by hand\n"
                          "[server]\n"
                          "# the loopback only\n"
                          "bind = 127.0.0.1   \n"
                          "port = 6000\n"
                          "\n"
                          "[paths]\n"
                          "workspace = /srv/ws ; old\n");
        QTest::newRow("a new key goes after its section's last line")
            << commented << Assignments{{"server/role", "relay"}}
            << QByteArray("; Ghost Runner, written by hand\n"
                          "[server]\n"
                          "# the loopback only\n"
                          "bind = 127.0.0.1   \n"
                          "port=5555\n"
                          "role = relay\n"
                          "\n"
                          "[paths]\n"
                          "workspace = /srv/ws ; old\n");
        QTest::newRow("a new section at the end")
            << commented << Assignments{{"relay/runner_url", "http://10.0.0.2:5053"}}
            << commented + "\n[relay]\nrunner_url = http://10.0.0.2:5053\n";
        QTest::newRow("an empty file") << QByteArray() << Assignments{{"server/port", "1"}}
                                       << QByteArray("[server]\nport = 1\n");
        QTest::newRow("no final newline")
            << QByteArray("[server]\nport = 1") << Assignments{{"server/bind", "0.0.0.0"}}
            << QByteArray("[server]\nport = 1\nbind = 0.0.0.0\n");
        QTest::newRow("CRLF kept, new lines too")
            << QByteArray("[server]\r\nport = 1\r\n")
            << Assignments{{"server/port", "2"}, {"paths/workspace", "/w"}}
            << QByteArray("[server]\r\nport = 2\r\n\r\n[paths]\r\nworkspace = /w\r\n");
        QTest::newRow("a key named twice: both lines")
            << QByteArray("[server]\nport = 1\nport = 2\n") << Assignments{{"server/port", "3"}}
            << QByteArray("[server]\nport = 3\nport = 3\n");
        QTest::newRow("the same key in another section is left alone")
            << QByteArray("[relay]\nport = 1\n[server]\nbind = x\n")
            << Assignments{{"server/port", "2"}}
            << QByteArray("[relay]\nport = 1\n[server]\nbind = x\nport = 2\n");
        QTest::newRow("a commented-out key is left alone")
            << QByteArray("[server]\n# port = 1\n; port = 2\n") << Assignments{{"server/port", "3"}}
            << QByteArray("[server]\n# port = 1\n; port = 2\nport = 3\n");
        QTest::newRow("a key that only starts the same is another key")
            << QByteArray("[server]\nportable = yes\n") << Assignments{{"server/port", "3"}}
            << QByteArray("[server]\nportable = yes\nport = 3\n");
        QTest::newRow("blank lines after a section stay after the new key")
            << QByteArray("[server]\nport = 1\n\n\n[paths]\n") << Assignments{{"server/bind", "b"}}
            << QByteArray("[server]\nport = 1\nbind = b\n\n\n[paths]\n");
        QTest::newRow("a section header with spaces and a comment")
            << QByteArray("[ server ] ; main\nport = 1\n") << Assignments{{"server/port", "2"}}
            << QByteArray("[ server ] ; main\nport = 2\n");
        QTest::newRow("quoted where QSettings needs it")
            << QByteArray("[paths]\n") << Assignments{{"paths/workspace", "/home/me/a,b;c"}}
            << QByteArray("[paths]\nworkspace = \"/home/me/a,b;c\"\n");
    }
    void editsInPlace()
    {
        QFETCH(QByteArray, before);
        QFETCH(Assignments, set);
        QFETCH(QByteArray, after);
        QCOMPARE(IniFile::edited(before, set), after);
        // Applying the same assignments again changes nothing more.
        QCOMPARE(IniFile::edited(after, set), after);
    }

    // Whatever the value, QSettings (and so Config) reads back exactly what was set.
    void valuesReadBackAsSet_data()
    {
        QTest::addColumn<QString>("value");
        QTest::newRow("address") << "127.0.0.1";
        QTest::newRow("url") << "http://runner.local:5053/path?q=1";
        QTest::newRow("spaces inside") << "/home/me/My Project";
        QTest::newRow("spaces around") << "  padded  ";
        QTest::newRow("comma") << "a,b";
        QTest::newRow("semicolon") << "a;b";
        QTest::newRow("hash") << "a#b";
        QTest::newRow("equals") << "a=b";
        QTest::newRow("quotes") << "say \"hi\"";
        QTest::newRow("backslashes") << "C:\\dir\\file";
        QTest::newRow("trailing backslash") << "dir\\";
        QTest::newRow("unicode") << QString::fromUtf8("/srv/проект/日本/🚀");
        QTest::newRow("tab and newline") << "a\tb\nc";
        QTest::newRow("control then hex digits") << QString::fromUtf8("x\x01"
                                                                      "abc");
        QTest::newRow("empty") << "";
        QTest::newRow("at sign") << "@Invalid()";
    }
    void valuesReadBackAsSet()
    {
        QFETCH(QString, value);
        QTemporaryDir dir;
        const QString path = dir.path() + "/g.ini";
        TestSupport::writeTree(dir.path(), {{"g.ini", "; mine\n[server]\nport = 1\n"}});
        QVERIFY(IniFile::setValues(path, {{"paths/workspace", value}}).ok());
        QSettings s(path, QSettings::IniFormat);
        QCOMPARE(s.status(), QSettings::NoError);
        QCOMPARE(s.value("paths/workspace").toString(), value);
        QCOMPARE(s.value("server/port").toInt(), 1);
        QVERIFY(TestSupport::readFile(path).startsWith("; mine\n[server]\nport = 1\n"));
    }

    // What the tray saves, the daemon loads.
    void configLoadsWhatWasSaved()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + "/ghost-runner.ini";
        TestSupport::writeTree(dir.path(), {{"ghost-runner.ini", "# hand-written\n[server]\n"
                                                                 "port = 5555 ; the default\n"}});
        QVERIFY(IniFile::setValues(path, {{"server/port", "6123"},
                                          {"server/bind", "0.0.0.0"},
                                          {"paths/workspace", dir.path() + "/my, ws"}})
                    .ok());
        Config c;
        QVERIFY2(c.loadFile(path).ok(), qPrintable(c.loadFile(path).error().message));
        QCOMPARE(c.port, 6123);
        QCOMPARE(c.bind, QString("0.0.0.0"));
        QCOMPARE(c.workspace, dir.path() + "/my, ws");
        QVERIFY(TestSupport::readFile(path).startsWith("# hand-written\n"));
    }

    void unwritableIsAnError()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + "/missing-dir/g.ini";
        const Status s = IniFile::setValues(path, {{"server/port", "1"}});
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("config_not_saved"));
        QVERIFY2(s.error().message.contains(path), qPrintable(s.error().message));
        QVERIFY(!QFile::exists(path));
    }
};

QTEST_GUILESS_MAIN(tst_IniFile)
#include "tst_inifile.moc"
