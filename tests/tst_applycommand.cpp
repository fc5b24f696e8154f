// `ghost-runner apply` as a process: exit 0 when applied, 1 when not (workspace unchanged),
// 2 on usage errors; the plan on stdout, one clear line on stderr.

#include "daemonprocess.h"
#include "testsupport.h"

#include <QTemporaryDir>
#include <QTest>

class tst_ApplyCommand : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.path() + "/ws"; }
    QString patchFile(const QByteArray &contents)
    {
        TestSupport::writeTree(m_dir.path(), {{"patch.in", contents}});
        return m_dir.path() + "/patch.in";
    }

private slots:
    void init()
    {
        QDir(ws()).removeRecursively();
        TestSupport::writeTree(ws(), {{"a.txt", "alpha\nbeta\n"}});
    }

    void appliesEnvelopeAndPrintsPlan()
    {
        QByteArray out, err;
        const QString f = patchFile(
            R"({"id":"x","mutations":[{"path":"a.txt","insertAfter":"alpha","contents":"inserted"},{"path":"b/new.txt","contents":"n\n"}]})");
        QCOMPARE(DaemonProcess::runToEnd({"apply", "--workspace", ws(), f}, &out, &err), 0);
        QVERIFY2(out.contains("modified") && out.contains("a.txt") && out.contains("+1 -0"),
                 out.constData());
        QVERIFY2(out.contains("added") && out.contains("b/new.txt"), out.constData());
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("alpha\ninserted\nbeta\n"));
        QVERIFY(err.isEmpty());
    }

    void dryRunChangesNothing()
    {
        QByteArray out, err;
        const auto before = TestSupport::readTree(ws());
        const QString f = patchFile(
            R"({"id":"x","target_file":"a.txt","patch":{"pattern":"beta","replacement":"gamma"}})");
        QCOMPARE(
            DaemonProcess::runToEnd({"apply", "--dry-run", "--workspace", ws(), f}, &out, &err), 0);
        QVERIFY2(out.contains("would apply"), out.constData());
        QCOMPARE(TestSupport::readTree(ws()), before);
    }

    void failureExitsOneAndLeavesTreeAlone()
    {
        QByteArray out, err;
        const auto before = TestSupport::readTree(ws());
        const QString f = patchFile(
            R"({"id":"x","mutations":[{"path":"c.txt","contents":"c"},{"path":"a.txt","insertAt":99,"contents":"z"}]})");
        QCOMPARE(DaemonProcess::runToEnd({"apply", "--workspace", ws(), f}, &out, &err), 1);
        QVERIFY2(err.startsWith("ghost-runner: failed (no_match): "), err.constData());
        QVERIFY(err.contains("the workspace is unchanged"));
        QCOMPARE(TestSupport::readTree(ws()), before);
    }

    // Raw patch text (not JSON) in every text format, detected; bytes that are not UTF-8 survive
    // because the text is applied as bytes, never escaped into JSON and back.
    void appliesRawTextFormats_data()
    {
        QTest::addColumn<QByteArray>("patch");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QByteArray>("after");
        QTest::newRow("unified, with a Latin-1 byte")
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n alpha\n-beta\n+b\xe9ta\n")
            << "unified" << QByteArray("alpha\nb\xe9ta\n");
        QTest::newRow("apply_patch")
            << QByteArray("*** Begin Patch\n*** Update File: a.txt\n@@\n-alpha\n+ALPHA\n*** End "
                          "Patch\n")
            << "apply_patch" << QByteArray("ALPHA\nbeta\n");
        QTest::newRow("search_replace")
            << QByteArray("a.txt\n<<<<<<< SEARCH\nbeta\n=======\nBETA\n>>>>>>> REPLACE\n")
            << "search_replace" << QByteArray("alpha\nBETA\n");
    }
    void appliesRawTextFormats()
    {
        QFETCH(QByteArray, patch);
        QFETCH(QString, format);
        QFETCH(QByteArray, after);
        QByteArray out, err;
        QCOMPARE(
            DaemonProcess::runToEnd({"apply", "--workspace", ws(), patchFile(patch)}, &out, &err),
            0);
        QVERIFY2(out.contains(QStringLiteral("applied %1 patch").arg(format).toUtf8()),
                 out.constData());
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), after);
        // Named explicitly, the same; a wrong explicit format fails and changes nothing.
        init();
        QCOMPARE(
            DaemonProcess::runToEnd(
                {"apply", "--format", format, "--workspace", ws(), patchFile(patch)}, &out, &err),
            0);
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), after);
        init();
        const QString wrong = format == QLatin1String("unified") ? "apply_patch" : "unified";
        QCOMPARE(
            DaemonProcess::runToEnd(
                {"apply", "--format", wrong, "--workspace", ws(), patchFile(patch)}, &out, &err),
            1);
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("alpha\nbeta\n"));
    }

    void rawTextOfNoKnownFormatIsAUsageError()
    {
        QByteArray out, err;
        QCOMPARE(DaemonProcess::runToEnd({"apply", "--workspace", ws(), patchFile("just words\n")},
                                         &out, &err),
                 2);
        QVERIFY2(err.contains("unknown_format") && err.contains("--format"), err.constData());
    }

    void readsStandardInput()
    {
        QByteArray out, err;
        QCOMPARE(
            DaemonProcess::runToEnd(
                {"apply", "--workspace", ws(), "-"}, &out, &err, 30000,
                QProcessEnvironment::systemEnvironment(),
                R"({"id":"s","target_file":"a.txt","patch":{"pattern":"alpha","replacement":"ALPHA"}})"),
            0);
        QCOMPARE(TestSupport::readFile(ws() + "/a.txt"), QByteArray("ALPHA\nbeta\n"));
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("no file") << QStringList{"apply"} << QByteArray("exactly one PATCH_FILE");
        QTest::newRow("two files")
            << QStringList{"apply", "a", "b"} << QByteArray("exactly one PATCH_FILE");
        QTest::newRow("missing file")
            << QStringList{"apply", "/nonexistent/patch"} << QByteArray("cannot read");
        QTest::newRow("bad format")
            << QStringList{"apply", "--format", "zip", "x"} << QByteArray("unknown format");
        QTest::newRow("unknown flag")
            << QStringList{"apply", "--frobnicate", "x"} << QByteArray("Unknown option");
    }
    void usageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QByteArray, message);
        QByteArray out, err;
        QCOMPARE(DaemonProcess::runToEnd(args, &out, &err), 2);
        QVERIFY2(err.startsWith("ghost-runner: ") && err.contains(message), err.constData());
    }

    void helpAndVersion()
    {
        QByteArray out;
        QCOMPARE(DaemonProcess::runToEnd({"apply", "--help"}, &out), 0);
        QVERIFY(out.startsWith("Usage: ghost-runner apply"));
        QCOMPARE(DaemonProcess::runToEnd({"serve", "--help"}, &out), 0);
        QVERIFY(out.contains("--workspace"));
        QCOMPARE(DaemonProcess::runToEnd({"--version"}, &out), 0);
        QVERIFY(out.startsWith("ghost-runner "));
        QCOMPARE(DaemonProcess::runToEnd({"--help"}, &out), 0);
        QVERIFY(out.contains("serve") && out.contains("apply"));
        QByteArray err;
        QCOMPARE(DaemonProcess::runToEnd({"bogus"}, &out, &err), 2);
        QVERIFY(err.contains("unknown command"));
    }
};

QTEST_GUILESS_MAIN(tst_ApplyCommand)
#include "tst_applycommand.moc"
