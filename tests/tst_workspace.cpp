// Workspace: the only writer of workspace files. Atomic commits, rollback, crash recovery from
// the on-disk transaction record, and the sandbox (nothing read or written outside the root).

#include "testsupport.h"
#include "workspace.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>
#include <unistd.h>

using Tree = QMap<QString, QByteArray>;
using Modes = QMap<QString, int>;
Q_DECLARE_METATYPE(ChangeSet)

namespace {

FileChange added(const QString &path, const QByteArray &contents,
                 std::optional<int> mode = std::nullopt)
{
    FileChange c;
    c.action = FileChange::Action::Added;
    c.path = path;
    c.contents = contents;
    c.mode = mode;
    return c;
}

FileChange modified(const QString &path, const QByteArray &contents,
                    std::optional<int> mode = std::nullopt)
{
    FileChange c = added(path, contents, mode);
    c.action = FileChange::Action::Modified;
    return c;
}

FileChange deleted(const QString &path)
{
    FileChange c;
    c.action = FileChange::Action::Deleted;
    c.path = path;
    return c;
}

FileChange renamed(const QString &from, const QString &to, const QByteArray &contents)
{
    FileChange c = added(to, contents);
    c.action = FileChange::Action::Renamed;
    c.oldPath = from;
    return c;
}

ChangeSet changes(std::initializer_list<FileChange> list)
{
    ChangeSet cs;
    for (const FileChange &c : list)
        cs.changes.append(c);
    return cs;
}

QString canonical(const QString &path)
{
    return QFileInfo(path).canonicalFilePath();
}

QStringList records(const QString &txnDir)
{
    return TestSupport::openTxnRecords(txnDir);
}

void setModes(const QString &root, const Modes &modes)
{
    for (auto it = modes.constBegin(); it != modes.constEnd(); ++it)
        QCOMPARE(::chmod(QFile::encodeName(root + '/' + it.key()).constData(), it.value()), 0);
}

// The change set the crash helper commits in a child process.
ChangeSet crashChangeSet()
{
    return changes({modified("a.txt", "A2\n"), added("new/deep/n.txt", "n\n"), deleted("b.txt"),
                    renamed("c.txt", "moved/c.txt", "c\n")});
}

// While a transaction is open its backups sit beside their targets.
Tree withoutSideFiles(Tree tree)
{
    for (auto it = tree.begin(); it != tree.end();) {
        if (QFileInfo(it.key()).fileName().contains(".gr-"))
            it = tree.erase(it);
        else
            ++it;
    }
    return tree;
}

Tree crashInitialTree()
{
    return {{"a.txt", "A1\n"}, {"b.txt", "B\n"}, {"c.txt", "c\n"}};
}

} // namespace

class tst_Workspace : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_root;    // canonical workspace root
    QString m_outside; // a sibling directory that must never change
    QString m_txnDir;

    WorkspaceOptions options() const
    {
        WorkspaceOptions o;
        o.txnDir = m_txnDir;
        return o;
    }

private slots:
    void initTestCase() { ::umask(022); } // modes in the expected trees assume it

    void init()
    {
        QVERIFY(m_tmp.isValid());
        const QString base = canonical(m_tmp.path());
        QDir(base).removeRecursively();
        QVERIFY(QDir().mkpath(base + "/ws"));
        QVERIFY(QDir().mkpath(base + "/outside"));
        m_root = base + "/ws";
        m_outside = base + "/outside";
        m_txnDir = base + "/txn";
        TestSupport::writeTree(m_outside, {{"victim.txt", "do not touch\n"}});
    }

    void commit_data()
    {
        QTest::addColumn<Tree>("initial");
        QTest::addColumn<Modes>("initialModes");
        QTest::addColumn<ChangeSet>("change");
        QTest::addColumn<Tree>("expected"); // every regular file afterwards, byte-exact
        QTest::addColumn<Modes>("expectedModes");

        const Tree base{{"a.txt", "alpha\n"}, {"src/b.c", "int b;\n"}, {"run.sh", "#!/bin/sh\n"}};
        QTest::newRow("add top-level") << base << Modes() << changes({added("new.txt", "new\n")})
                                       << Tree{{"a.txt", "alpha\n"},
                                               {"src/b.c", "int b;\n"},
                                               {"run.sh", "#!/bin/sh\n"},
                                               {"new.txt", "new\n"}}
                                       << Modes{{"new.txt", 0644}};
        QTest::newRow("add in new nested dirs")
            << base << Modes() << changes({added("x/y/z/deep.txt", "deep")})
            << Tree{{"a.txt", "alpha\n"},
                    {"src/b.c", "int b;\n"},
                    {"run.sh", "#!/bin/sh\n"},
                    {"x/y/z/deep.txt", "deep"}}
            << Modes{{"x", 0755}, {"x/y/z", 0755}, {"x/y/z/deep.txt", 0644}};
        QTest::newRow("add executable")
            << base << Modes() << changes({added("bin/tool", "#!/bin/sh\n", 0755)})
            << Tree{{"a.txt", "alpha\n"},
                    {"src/b.c", "int b;\n"},
                    {"run.sh", "#!/bin/sh\n"},
                    {"bin/tool", "#!/bin/sh\n"}}
            << Modes{{"bin/tool", 0755}};
        QTest::newRow("modify keeps mode") << base << Modes{{"run.sh", 0700}}
                                           << changes({modified("run.sh", "#!/bin/sh\nexit 0\n")})
                                           << Tree{{"a.txt", "alpha\n"},
                                                   {"src/b.c", "int b;\n"},
                                                   {"run.sh", "#!/bin/sh\nexit 0\n"}}
                                           << Modes{{"run.sh", 0700}};
        QTest::newRow("delete") << base << Modes() << changes({deleted("src/b.c")})
                                << Tree{{"a.txt", "alpha\n"}, {"run.sh", "#!/bin/sh\n"}} << Modes();
        QTest::newRow("rename into new dir")
            << base << Modes{{"a.txt", 0600}} << changes({renamed("a.txt", "docs/a.md", "alpha\n")})
            << Tree{{"docs/a.md", "alpha\n"}, {"src/b.c", "int b;\n"}, {"run.sh", "#!/bin/sh\n"}}
            << Modes{{"docs/a.md", 0600}};
        QTest::newRow("rename over existing file")
            << base << Modes() << changes({renamed("a.txt", "run.sh", "alpha\nedited\n")})
            << Tree{{"src/b.c", "int b;\n"}, {"run.sh", "alpha\nedited\n"}} << Modes();
        QTest::newRow("chmod only")
            << base << Modes() << changes({modified("run.sh", "#!/bin/sh\n", 0755)})
            << Tree{{"a.txt", "alpha\n"}, {"src/b.c", "int b;\n"}, {"run.sh", "#!/bin/sh\n"}}
            << Modes{{"run.sh", 0755}, {"a.txt", 0644}};
        QTest::newRow("chmod down")
            << base << Modes{{"run.sh", 0755}} << changes({modified("run.sh", "#!/bin/sh\n", 0600)})
            << Tree{{"a.txt", "alpha\n"}, {"src/b.c", "int b;\n"}, {"run.sh", "#!/bin/sh\n"}}
            << Modes{{"run.sh", 0600}};
        QTest::newRow("binary, CRLF and empty")
            << base << Modes()
            << changes({modified("a.txt", QByteArray("a\r\nb\0c\xff\r\n", 10)),
                        added("empty", QByteArray())})
            << Tree{{"a.txt", QByteArray("a\r\nb\0c\xff\r\n", 10)},
                    {"src/b.c", "int b;\n"},
                    {"run.sh", "#!/bin/sh\n"},
                    {"empty", QByteArray()}}
            << Modes{{"empty", 0644}};
        QTest::newRow("everything at once")
            << base << Modes{{"run.sh", 0644}}
            << changes({modified("a.txt", "ALPHA\n"), deleted("src/b.c"),
                        renamed("run.sh", "scripts/run.sh", "#!/bin/sh\n"),
                        added("src/new/n.c", "int n;\n"), added("tools/x", "x", 0750)})
            << Tree{{"a.txt", "ALPHA\n"},
                    {"scripts/run.sh", "#!/bin/sh\n"},
                    {"src/new/n.c", "int n;\n"},
                    {"tools/x", "x"}}
            << Modes{{"tools/x", 0750}, {"scripts/run.sh", 0644}};
        QTest::newRow("empty change set") << base << Modes() << ChangeSet() << base << Modes();
    }

    // Commit writes the exact tree; finalize then leaves no backups and no record.
    void commit()
    {
        QFETCH(Tree, initial);
        QFETCH(Modes, initialModes);
        QFETCH(ChangeSet, change);
        QFETCH(Tree, expected);
        QFETCH(Modes, expectedModes);
        TestSupport::writeTree(m_root, initial);
        setModes(m_root, initialModes);
        const Tree outsideBefore = TestSupport::snapshot(m_outside);

        Workspace ws(m_root, options());
        const Status s = ws.commit(change, "txn-commit-1");
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QCOMPARE(ws.openTransactions(), QStringList{"txn-commit-1"});
        // Backups are kept while the transaction is open, but never visible as the result.
        ws.finalize("txn-commit-1");

        QCOMPARE(TestSupport::readTree(m_root), expected);
        for (auto it = expectedModes.constBegin(); it != expectedModes.constEnd(); ++it)
            QCOMPARE(TestSupport::fileMode(m_root + '/' + it.key()), it.value());
        QCOMPARE(TestSupport::sideFiles(m_root), QStringList());
        QCOMPARE(records(m_txnDir), QStringList());
        QCOMPARE(ws.openTransactions(), QStringList());
        QCOMPARE(TestSupport::snapshot(m_outside), outsideBefore);
    }

    // A commit of many files writes them on several threads: the result, the modes, and a
    // failure in the middle of those writes are the same as for a small one.
    // The newest transaction's record lives in one slot file, rewritten in place: commits make
    // no record file of their own. A second transaction open beside it gets <txn>.json, and a
    // restarted process finds and undoes both.
    void recordSlotAndASecondOpenTransaction()
    {
        TestSupport::writeTree(m_root, {{"a.txt", "a\n"}, {"b.txt", "b\n"}});
        {
            Workspace ws(m_root, options());
            QVERIFY(ws.commit(changes({modified("a.txt", "A\n")}), "t-first").ok());
            QCOMPARE(QDir(m_txnDir).entryList(QDir::Files), QStringList{"current.rec"});
            QVERIFY(ws.commit(changes({modified("b.txt", "B\n")}), "t-second").ok());
            QCOMPARE(QDir(m_txnDir).entryList(QDir::Files),
                     (QStringList{"current.rec", "t-second.json"}));
        } // a crash: both open
        Workspace restarted(m_root, options());
        QCOMPARE(restarted.openTransactions(), (QStringList{"t-second", "t-first"}));
        QVERIFY(restarted.rollback("t-second").ok());
        QVERIFY(restarted.rollback("t-first").ok());
        QCOMPARE(TestSupport::readTree(m_root), (Tree{{"a.txt", "a\n"}, {"b.txt", "b\n"}}));
        QCOMPARE(records(m_txnDir), QStringList());
        QCOMPARE(restarted.openTransactions(), QStringList());
        // The slot is free again for the next one.
        QVERIFY(restarted.commit(changes({modified("a.txt", "A2\n")}), "t-third").ok());
        QCOMPARE(records(m_txnDir), QStringList{"current.rec"});
        restarted.finalize("t-third");
        QCOMPARE(records(m_txnDir), QStringList());
    }

    // A slot torn by a crash while it was being written (before any rename) is no open
    // transaction; the workspace is as it was.
    void aTornRecordSlotIsNoTransaction()
    {
        TestSupport::writeTree(m_root, {{"a.txt", "a\n"}});
        {
            Workspace ws(m_root, options());
            QVERIFY(ws.commit(changes({modified("a.txt", "A\n")}), "t-torn").ok());
            QVERIFY(ws.rollback("t-torn").ok());
        }
        QFile slot(m_txnDir + "/current.rec");
        QVERIFY(slot.open(QIODevice::WriteOnly));
        slot.write("GRTXN1 40 0123456789abcdef0123456789abcdef\n{\"txn\":\"t-torn\",\"ent");
        slot.close();
        Workspace restarted(m_root, options());
        QCOMPARE(restarted.openTransactions(), QStringList());
        QCOMPARE(restarted.rollback("t-torn").error().code, QString("txn_missing"));
        QCOMPARE(TestSupport::readTree(m_root), (Tree{{"a.txt", "a\n"}}));
        QVERIFY(restarted.commit(changes({modified("a.txt", "A\n")}), "t-next").ok());
        QCOMPARE(restarted.openTransactions(), QStringList{"t-next"});
    }

    void largeCommit()
    {
        Tree initial;
        ChangeSet change;
        Tree expected;
        for (int i = 0; i < 300; ++i) {
            const QString path = QString("d%1/f%2.txt").arg(i % 7).arg(i, 3, 10, QChar('0'));
            const QByteArray before = "before " + QByteArray::number(i) + "\n";
            const QByteArray after = "after " + QByteArray::number(i) + "\n";
            if (i % 5 == 4) {
                change.changes.append(added("new/" + path, after));
                expected.insert("new/" + path, after);
            } else {
                initial.insert(path, before);
                change.changes.append(modified(path, after, i % 5 == 1 ? 0755 : 0640));
            }
            if (i % 5 != 4)
                expected.insert(path, after);
        }
        TestSupport::writeTree(m_root, initial);

        // A directory where the 198th file's temporary file goes makes that write fail.
        const QString blocked = change.changes[197].path;
        const qsizetype slash = blocked.lastIndexOf('/');
        const QString blocker = QString("%1/%2/.%3.gr-txn-big--198.tmp")
                                    .arg(m_root, blocked.left(slash), blocked.mid(slash + 1));
        QVERIFY(QDir().mkpath(blocker));
        const Tree before = TestSupport::snapshot(m_root);
        {
            Workspace ws(m_root, options());
            const Status s = ws.commit(change, "txn-big-fail");
            QVERIFY(!s.ok());
            QCOMPARE(s.error().code, QString("write_failed"));
            QCOMPARE(s.error().file, blocked);
            QCOMPARE(TestSupport::snapshot(m_root), before);
            QCOMPARE(TestSupport::sideFiles(m_root), QStringList()); // files only
            QCOMPARE(records(m_txnDir), QStringList());
            QVERIFY(!QFileInfo::exists(m_root + "/new")); // the directories it made are gone
        }
        QVERIFY(QDir().rmdir(blocker));

        // The same with the backup's name taken: the directory there is no backup to restore.
        const QString bakName = QString(blocker).replace(".tmp", ".bak");
        QVERIFY(QDir().mkpath(bakName));
        const Tree beforeBak = TestSupport::snapshot(m_root);
        {
            Workspace ws(m_root, options());
            const Status s = ws.commit(change, "txn-big-bak");
            QVERIFY(!s.ok());
            QCOMPARE(s.error().code, QString("write_failed"));
            QCOMPARE(s.error().file, blocked);
            QVERIFY2(s.error().message.contains("backup") &&
                         !s.error().message.contains("undoing it failed"),
                     qPrintable(s.error().message));
            QCOMPARE(TestSupport::snapshot(m_root), beforeBak);
            QCOMPARE(TestSupport::sideFiles(m_root), QStringList());
        }
        QVERIFY(QDir().rmdir(bakName));

        Workspace ws(m_root, options());
        const Status s = ws.commit(change, "txn-big-ok");
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        ws.finalize("txn-big-ok");
        QCOMPARE(TestSupport::readTree(m_root), expected);
        QCOMPARE(TestSupport::fileMode(m_root + "/d1/f001.txt"), 0755);
        QCOMPARE(TestSupport::fileMode(m_root + "/d2/f002.txt"), 0640);
        QCOMPARE(TestSupport::fileMode(m_root + "/new/d4/f004.txt"), 0644);
        QCOMPARE(TestSupport::sideFiles(m_root), QStringList());
        QCOMPARE(records(m_txnDir), QStringList());
    }

    void rollbackAfterCommit_data() { commit_data(); }
    // Rollback restores contents, modes, deleted files; removes added files and created dirs.
    void rollbackAfterCommit()
    {
        QFETCH(Tree, initial);
        QFETCH(Modes, initialModes);
        QFETCH(ChangeSet, change);
        QFETCH(Tree, expected);
        TestSupport::writeTree(m_root, initial);
        setModes(m_root, initialModes);
        const Tree before = TestSupport::snapshot(m_root);

        Workspace ws(m_root, options());
        const Status s = ws.commit(change, "txn-rollback-1");
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QCOMPARE(withoutSideFiles(TestSupport::readTree(m_root)), expected);
        const Status r = ws.rollback("txn-rollback-1");
        QVERIFY2(r.ok(), qPrintable(r.error().message));

        QCOMPARE(TestSupport::snapshot(m_root), before);
        QCOMPARE(records(m_txnDir), QStringList());
        QCOMPARE(ws.openTransactions(), QStringList());
        // A transaction is undone once; a second rollback has nothing to work from.
        QCOMPARE(ws.rollback("txn-rollback-1").error().code, QString("txn_missing"));
    }

    void recoverAfterRestart_data() { commit_data(); }
    // A new process (a new Workspace object) finds the record and can still undo the commit.
    void recoverAfterRestart()
    {
        QFETCH(Tree, initial);
        QFETCH(Modes, initialModes);
        QFETCH(ChangeSet, change);
        QFETCH(Tree, expected);
        TestSupport::writeTree(m_root, initial);
        setModes(m_root, initialModes);
        const Tree before = TestSupport::snapshot(m_root);
        {
            Workspace first(m_root, options());
            const Status s = first.commit(change, "txn-restart-1");
            QVERIFY2(s.ok(), qPrintable(s.error().message));
        }
        QCOMPARE(withoutSideFiles(TestSupport::readTree(m_root)), expected);

        Workspace restarted(m_root, options());
        QCOMPARE(restarted.openTransactions(), QStringList{"txn-restart-1"});
        const Status r = restarted.rollback("txn-restart-1");
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(TestSupport::snapshot(m_root), before);
        QCOMPARE(TestSupport::sideFiles(m_root), QStringList());
        QCOMPARE(restarted.openTransactions(), QStringList());
    }

    void finalizeAfterRestart()
    {
        TestSupport::writeTree(m_root, {{"a.txt", "old\n"}, {"gone.txt", "x\n"}});
        {
            Workspace first(m_root, options());
            QVERIFY(first.commit(changes({modified("a.txt", "new\n"), deleted("gone.txt")}), "t1")
                        .ok());
        }
        QVERIFY(!TestSupport::sideFiles(m_root).isEmpty()); // backups kept until finalize
        Workspace restarted(m_root, options());
        QCOMPARE(restarted.openTransactions(), QStringList{"t1"});
        restarted.finalize("t1");
        QCOMPARE(TestSupport::snapshot(m_root), (Tree{{"a.txt", "0644:new\n"}}));
        QCOMPARE(records(m_txnDir), QStringList());
    }

    // Helper for crashMidCommit: only does something in the child process that test starts.
    void crashChild()
    {
        const QByteArray root = qgetenv("GR_TEST_CRASH_ROOT");
        if (root.isEmpty())
            QSKIP("helper for crashMidCommit: runs only in its child process");
        WorkspaceOptions o;
        o.txnDir = QString::fromLocal8Bit(qgetenv("GR_TEST_CRASH_TXN"));
        Workspace ws(QString::fromLocal8Bit(root), o);
        const Status s = ws.commit(crashChangeSet(), "crash-txn-1");
        ::_exit(s.ok() ? 0 : 1); // the crash point should have ended us before this
    }

    // A real crash after the first rename (GHOST_RUNNER_CRASH_AT), then recovery on restart.
    void crashMidCommit()
    {
        TestSupport::writeTree(m_root, crashInitialTree());
        const Tree before = TestSupport::snapshot(m_root);
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("GHOST_RUNNER_CRASH_AT", "workspace-mid-commit");
        env.insert("GR_TEST_CRASH_ROOT", m_root);
        env.insert("GR_TEST_CRASH_TXN", m_txnDir);
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {"crashChild"});
        QVERIFY(child.waitForFinished(60000));
        QCOMPARE(child.exitCode(), 86);
        // Half done: a.txt already replaced, the rest not.
        QCOMPARE(TestSupport::readFile(m_root + "/a.txt"), QByteArray("A2\n"));
        QVERIFY(QFile::exists(m_root + "/b.txt"));

        Workspace restarted(m_root, options());
        QCOMPARE(restarted.openTransactions(), QStringList{"crash-txn-1"});
        const Status r = restarted.rollback("crash-txn-1");
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(TestSupport::snapshot(m_root), before);
        QCOMPARE(TestSupport::sideFiles(m_root), QStringList());
        QCOMPARE(records(m_txnDir), QStringList());
    }

    void failureMidCommit_data()
    {
        QTest::addColumn<Tree>("initial");
        QTest::addColumn<QStringList>("dirs"); // extra (empty) directories
        QTest::addColumn<ChangeSet>("change");
        QTest::addColumn<QString>("file"); // the file the error names

        const Tree base{{"a.txt", "alpha\n"}, {"b.txt", "beta\n"}, {"dir/inside.txt", "in\n"}};
        QTest::newRow("add onto a directory")
            << base << QStringList() << changes({modified("a.txt", "A\n"), added("dir", "x")})
            << "dir";
        QTest::newRow("modify a directory, after new dirs")
            << base << QStringList{"empty"}
            << changes({added("n1/n2/n3.txt", "n\n"), deleted("b.txt"), modified("empty", "x")})
            << "empty";
        QTest::newRow("delete a directory")
            << base << QStringList()
            << changes({modified("a.txt", "A\n"), added("z.txt", "z\n"), deleted("dir")}) << "dir";
        QTest::newRow("rename onto a directory")
            << base << QStringList() << changes({renamed("a.txt", "dir", "alpha\n")}) << "dir";
        QTest::newRow("parent component is a file")
            << base << QStringList()
            << changes({modified("a.txt", "A\n"), deleted("b.txt"), added("a.txt/child", "c")})
            << "a.txt/child";
        QTest::newRow("deeper parent component is a file")
            << base << QStringList()
            << changes({added("new/x.txt", "x\n"), added("dir/inside.txt/deep/er.txt", "c")})
            << "dir/inside.txt/deep/er.txt";
        QTest::newRow("first change fails")
            << base << QStringList() << changes({added("dir", "x"), modified("a.txt", "A\n")})
            << "dir";
        QTest::newRow("rename then failure")
            << base << QStringList()
            << changes({renamed("b.txt", "moved/b.txt", "beta\n"), added("b.txt/x", "x")})
            << "b.txt/x";
    }

    // Any failure leaves the tree byte-identical, with no temporary files and no record.
    void failureMidCommit()
    {
        QFETCH(Tree, initial);
        QFETCH(QStringList, dirs);
        QFETCH(ChangeSet, change);
        QFETCH(QString, file);
        TestSupport::writeTree(m_root, initial);
        for (const QString &d : dirs)
            QVERIFY(QDir().mkpath(m_root + '/' + d));
        const Tree before = TestSupport::snapshot(m_root);

        Workspace ws(m_root, options());
        const Status s = ws.commit(change, "txn-fail-1");
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("write_failed"));
        QCOMPARE(s.error().file, file);
        QVERIFY2(s.error().message.contains(file), qPrintable(s.error().message));
        QCOMPARE(TestSupport::snapshot(m_root), before);
        QCOMPARE(TestSupport::sideFiles(m_root), QStringList());
        QCOMPARE(records(m_txnDir), QStringList());
        QCOMPARE(ws.openTransactions(), QStringList());
        QCOMPARE(ws.rollback("txn-fail-1").error().code, QString("txn_missing"));
    }

    void sandbox_data()
    {
        QTest::addColumn<QString>("path"); // $ROOT and $OUTSIDE are replaced
        QTest::addColumn<QString>("code");
        QTest::addColumn<bool>("readOnly"); // only reading is refused (writing replaces it)

        const QString out = "path_outside_workspace";
        const QString inv = "path_invalid";
        QTest::newRow("dotdot") << "../x" << out << false;
        QTest::newRow("inner dotdot") << "a/../../x" << out << false;
        QTest::newRow("dot then dotdot") << "./../x" << out << false;
        QTest::newRow("dotdot to sibling") << "sub/../../outside/victim.txt" << out << false;
        QTest::newRow("backslash dotdot") << "..\\x" << out << false;
        QTest::newRow("absolute elsewhere") << "/etc/passwd" << out << false;
        QTest::newRow("absolute sibling") << "$OUTSIDE/victim.txt" << out << false;
        QTest::newRow("absolute prefix trick") << "$ROOT-evil/x" << out << false;
        QTest::newRow("absolute with dotdot") << "$ROOT/../outside/victim.txt" << out << false;
        QTest::newRow("absolute root itself") << "$ROOT" << inv << false;
        QTest::newRow("home") << "~/.bashrc" << out << false;
        QTest::newRow("windows drive") << "C:\\Windows\\win.ini" << out << false;
        QTest::newRow("windows drive slash") << "C:/x" << out << false;
        QTest::newRow("empty") << "" << inv << false;
        QTest::newRow("nul byte") << QString::fromUtf8("a.txt\0.png", 10) << inv << false;
        QTest::newRow("newline") << "a\nb" << inv << false;
        QTest::newRow("git config") << ".git/config" << out << false;
        QTest::newRow("git hook") << ".git/hooks/pre-commit" << out << false;
        QTest::newRow("nested repo hook") << "nested/.git/hooks/pre-commit" << out << false;
        QTest::newRow("symlink to .git") << "gitlink/hooks/pre-commit" << out << false;
        QTest::newRow("file symlink out") << "outfile" << out << false;
        QTest::newRow("dir symlink out, existing") << "out/victim.txt" << out << false;
        QTest::newRow("dir symlink out, new file") << "out/new.txt" << out << false;
        QTest::newRow("dir symlink itself") << "out" << out << false;
        QTest::newRow("symlink to /") << "rootlink/etc/passwd" << out << false;
        QTest::newRow("symlink to / itself") << "rootlink" << out << false;
        QTest::newRow("chain of two symlinks") << "chain1/victim.txt" << out << false;
        QTest::newRow("relative symlink out") << "rel/victim.txt" << out << false;
        QTest::newRow("symlink to /dev/null") << "devnull" << out << false;
        QTest::newRow("dangling symlink out") << "dangling" << out << false;
        QTest::newRow("dangling dir symlink out") << "danglingdir/x.txt" << out << false;
        QTest::newRow("symlink out, deeper") << "sub/up/outside/victim.txt" << out << false;
        QTest::newRow("fifo") << "fifo" << inv << true;
        QTest::newRow("directory") << "sub" << inv << true;
        // A symlink made by an earlier step of the same change set cannot be expressed: a
        // ChangeSet (and StagedTree, which builds it) has no symlink action, only file contents.
    }

    // Each hostile path is refused for reading and for every kind of change, nothing written.
    void sandbox()
    {
        QFETCH(QString, path);
        QFETCH(QString, code);
        QFETCH(bool, readOnly);
        path.replace("$ROOT", m_root).replace("$OUTSIDE", m_outside);

        TestSupport::writeTree(m_root, {{"real.txt", "real\n"},
                                        {"sub/inner.txt", "inner\n"},
                                        {".git/config", "[core]\n"},
                                        {".git/hooks/pre-commit.sample", "#!/bin/sh\n"},
                                        {"nested/.git/hooks/pre-commit.sample", "#!/bin/sh\n"}});
        const auto link = [&](const QString &target, const QString &name) {
            QCOMPARE(::symlink(QFile::encodeName(target).constData(),
                               QFile::encodeName(m_root + '/' + name).constData()),
                     0);
        };
        link(m_outside, "out");
        link(m_outside + "/victim.txt", "outfile");
        link("/", "rootlink");
        link("chain2", "chain1");
        link(m_outside, "chain2");
        link("../outside", "rel");
        link("/dev/null", "devnull");
        link(m_outside + "/nothing-here", "dangling");
        link(m_outside + "/no-dir", "danglingdir");
        link(".git", "gitlink");
        link("../..", "sub/up");
        link("real.txt", "inlink");
        QCOMPARE(::mkfifo(QFile::encodeName(m_root + "/fifo").constData(), 0644), 0);
        const QString base = QFileInfo(m_root).absolutePath();
        const Tree wsBefore = TestSupport::snapshot(m_root);
        const Tree outsideBefore = TestSupport::snapshot(m_outside);

        Workspace ws(m_root, options());
        const auto expectRefusal = [&](const Error &e, const char *what) {
            QVERIFY2(!e.isNull(), what);
            QVERIFY2(e.code == code,
                     qPrintable(QString("%1: %2 (%3)").arg(what, e.code, e.message)));
            QVERIFY2(e.message.startsWith("path \""), qPrintable(e.message));
        };
        const Result<FileState> r = ws.read(path);
        QVERIFY2(!r.ok(), "read must be refused");
        expectRefusal(r.error(), "read");
        // Among others read together (checked one by one, read concurrently): refused alike.
        const QList<Result<FileState>> many = ws.readMany({"real.txt", path, "sub/inner.txt"});
        QCOMPARE(many.size(), 3);
        QCOMPARE(many[0]->contents, QByteArray("real\n"));
        QVERIFY2(!many[1].ok(), "readMany must refuse it too");
        expectRefusal(many[1].error(), "readMany");
        QCOMPARE(many[2]->contents, QByteArray("inner\n"));
        if (!readOnly) {
            const Result<QString> n = ws.normalize(path);
            QVERIFY2(!n.ok(), qPrintable(n.ok() ? *n : QString()));
            expectRefusal(n.error(), "normalize");
            const QList<ChangeSet> attempts{
                changes({added("good.txt", "good\n"), added(path, "pwned\n")}),
                changes({modified(path, "pwned\n", 0777)}),
                changes({deleted(path)}),
                changes({renamed(path, "stolen.txt", "stolen\n")}),
                changes({renamed("real.txt", path, "real\n")}),
            };
            for (const ChangeSet &cs : attempts) {
                const Status s = ws.commit(cs, "txn-sandbox");
                QVERIFY2(!s.ok(), "commit must be refused");
                expectRefusal(s.error(), "commit");
            }
        }
        QCOMPARE(TestSupport::snapshot(m_root), wsBefore);
        QCOMPARE(TestSupport::snapshot(m_outside), outsideBefore);
        QCOMPARE(TestSupport::sideFiles(base), QStringList());
        QCOMPARE(records(m_txnDir), QStringList());
        QCOMPARE(ws.openTransactions(), QStringList());
    }

    // Within a PathScope a directory is verified once and then trusted by its open handle, never
    // by its name: a symlink out placed in it later is refused, a symlink out swapped in for it is
    // not followed, and a commit verifies everything afresh.
    void verifiedDirectoryStaysGuarded()
    {
        TestSupport::writeTree(m_root, {{"d/a.txt", "a\n"}, {"d/b.txt", "b\n"}});
        const Tree outsideBefore = TestSupport::snapshot(m_outside);
        const auto link = [&](const QString &target, const QString &name) {
            QCOMPARE(::symlink(QFile::encodeName(target).constData(),
                               QFile::encodeName(m_root + '/' + name).constData()),
                     0);
        };
        Workspace ws(m_root, options());
        {
            const Workspace::PathScope scope(ws);
            QCOMPARE(ws.read("d/a.txt")->contents, QByteArray("a\n")); // d/ verified, kept open
            link(m_outside + "/victim.txt", "d/evil");
            QCOMPARE(ws.read("d/evil").error().code, QString("path_outside_workspace"));
            QCOMPARE(ws.normalize("d/evil").error().code, QString("path_outside_workspace"));
            QCOMPARE(ws.read("d/b.txt")->contents, QByteArray("b\n"));

            QCOMPARE(::rename(QFile::encodeName(m_root + "/d").constData(),
                              QFile::encodeName(m_root + "/d.moved").constData()),
                     0);
            link(m_outside, "d");
            // Still the verified directory (now d.moved), never outside/victim.txt.
            QVERIFY(!ws.read("d/victim.txt")->exists);
            QCOMPARE(ws.read("d/b.txt")->contents, QByteArray("b\n"));
            // A commit, even inside the scope, verifies its paths afresh.
            for (const ChangeSet &cs : {changes({modified("d/victim.txt", "pwned\n")}),
                                        changes({added("d/new.txt", "pwned\n")})}) {
                const Status s = ws.commit(cs, "txn-swapped");
                QVERIFY(!s.ok());
                QCOMPARE(s.error().code, QString("path_outside_workspace"));
            }
        }
        {
            // A new scope sees the swap too.
            const Workspace::PathScope scope(ws);
            QCOMPARE(ws.read("d/victim.txt").error().code, QString("path_outside_workspace"));
        }
        QCOMPARE(TestSupport::snapshot(m_outside), outsideBefore);
        QCOMPARE(records(m_txnDir), QStringList());
    }

    // The positive controls for the sandbox: links and absolute paths that stay inside work.
    void insidePathsAccepted()
    {
        TestSupport::writeTree(m_root, {{"real.txt", "real\n"}, {"sub/inner.txt", "inner\n"}});
        QCOMPARE(::symlink("real.txt", QFile::encodeName(m_root + "/inlink").constData()), 0);
        QCOMPARE(::symlink("sub", QFile::encodeName(m_root + "/sublink").constData()), 0);
        Workspace ws(m_root, options());
        QCOMPARE(ws.read("inlink")->contents, QByteArray("real\n"));
        QCOMPARE(ws.read("sublink/inner.txt")->contents, QByteArray("inner\n"));
        QCOMPARE(ws.read(m_root + "/sub/inner.txt")->contents, QByteArray("inner\n"));
        QCOMPARE(ws.normalize(m_root + "/sub/../real.txt").value(), QString("real.txt"));
        QCOMPARE(ws.normalize(".gitignore").value(), QString(".gitignore"));
        QVERIFY(!ws.read("missing.txt")->exists);
        QVERIFY(ws.commit(changes({added("sublink/new.txt", "n\n")}), "t").ok());
        ws.finalize("t");
        QCOMPARE(TestSupport::readFile(m_root + "/sub/new.txt"), QByteArray("n\n"));
    }

    // readMany() answers what read() answers for each path, in order, while reading many at once.
    void readManyMatchesRead()
    {
        Tree initial;
        QStringList paths;
        for (int i = 0; i < 120; ++i) {
            const QString p = QStringLiteral("d%1/f%2.txt").arg(i % 7).arg(i);
            initial.insert(p, QByteArray::number(i).repeated(i + 1) + '\n');
            paths << p;
        }
        TestSupport::writeTree(m_root, initial);
        QCOMPARE(::symlink("d0/f0.txt", QFile::encodeName(m_root + "/inlink").constData()), 0);
        QCOMPARE(::chmod(QFile::encodeName(m_root + "/d3/f3.txt").constData(), 0750), 0);
        paths << "inlink"
              << "missing.txt"
              << "d1"
              << "../x"
              << "nodir/x.txt";
        Workspace ws(m_root, options());
        const QList<Result<FileState>> many = ws.readMany(paths);
        QCOMPARE(many.size(), paths.size());
        for (qsizetype i = 0; i < paths.size(); ++i) {
            const Result<FileState> one = ws.read(paths[i]);
            QCOMPARE(many[i].ok(), one.ok());
            if (!one.ok()) {
                QCOMPARE(many[i].error().code, one.error().code);
                continue;
            }
            QCOMPARE(many[i]->exists, one->exists);
            QCOMPARE(many[i]->contents, one->contents);
            QCOMPARE(many[i]->mode, one->mode);
        }
        QCOMPARE(many[3]->mode, 0750);
        QCOMPARE(many[120]->contents, QByteArray("0\n"));
        QVERIFY(!many[121]->exists);
        QCOMPARE(many[122].error().code, QString("path_invalid"));
        QCOMPARE(many[123].error().code, QString("path_outside_workspace"));
        QVERIFY(!many[124]->exists);
    }

    void readReportsModeAndContents()
    {
        TestSupport::writeTree(m_root, {{"x.sh", QByteArray("a\0b\r\n", 5)}});
        QCOMPARE(::chmod(QFile::encodeName(m_root + "/x.sh").constData(), 0751), 0);
        Workspace ws(m_root);
        const Result<FileState> r = ws.read("x.sh");
        QVERIFY(r.ok());
        QVERIFY(r->exists);
        QCOMPARE(r->contents, QByteArray("a\0b\r\n", 5));
        QCOMPARE(r->mode, 0751);
    }

    void gitAllowedWhenConfigured()
    {
        TestSupport::writeTree(m_root, {{".git/config", "[core]\n"}});
        WorkspaceOptions o = options();
        o.allowGit = true;
        Workspace ws(m_root, o);
        QVERIFY(ws.commit(changes({modified(".git/config", "[core]\nbare = false\n")}), "g").ok());
        ws.finalize("g");
        QCOMPARE(TestSupport::readFile(m_root + "/.git/config"),
                 QByteArray("[core]\nbare = false\n"));
    }

    // Without a txnDir the transaction lives in memory: rollback still works, nothing listed.
    void withoutTxnDir()
    {
        TestSupport::writeTree(m_root, {{"a.txt", "1\n"}});
        const Tree before = TestSupport::snapshot(m_root);
        Workspace ws(m_root);
        QVERIFY(ws.commit(changes({modified("a.txt", "2\n"), added("d/b.txt", "b\n")}), "m").ok());
        QCOMPARE(ws.openTransactions(), QStringList());
        QCOMPARE(TestSupport::readFile(m_root + "/a.txt"), QByteArray("2\n"));
        QVERIFY(ws.rollback("m").ok());
        QCOMPARE(TestSupport::snapshot(m_root), before);
    }

    // Two transactions in a row: undoing the second leaves the first one's result.
    void sequentialTransactions()
    {
        TestSupport::writeTree(m_root, {{"a.txt", "1\n"}});
        Workspace ws(m_root, options());
        QVERIFY(ws.commit(changes({modified("a.txt", "2\n")}), "first").ok());
        ws.finalize("first");
        const Tree afterFirst = TestSupport::snapshot(m_root);
        QVERIFY(
            ws.commit(changes({modified("a.txt", "3\n"), added("b.txt", "b\n")}), "second").ok());
        QCOMPARE(TestSupport::readFile(m_root + "/a.txt"), QByteArray("3\n"));
        QVERIFY(ws.rollback("second").ok());
        QCOMPARE(TestSupport::snapshot(m_root), afterFirst);
    }

    void checkWritable()
    {
        QVERIFY(Workspace(m_root).checkWritable().ok());
        QCOMPARE(Workspace(m_root + "/missing").checkWritable().error().code,
                 QString("workspace_missing"));
        TestSupport::writeTree(m_root, {{"file", "x"}});
        QCOMPARE(Workspace(m_root + "/file").checkWritable().error().code,
                 QString("workspace_missing"));
        QCOMPARE(TestSupport::snapshot(m_root), (Tree{{"file", "0644:x"}}));
    }
};

QTEST_GUILESS_MAIN(tst_Workspace)
#include "tst_workspace.moc"
