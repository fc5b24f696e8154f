#include "testsupport.h"
#include "workspace.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using Tree = QMap<QString, QByteArray>;

class tst_Workspace : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString root() const { return m_tmp.path() + "/ws"; }
    QString outside() const { return m_tmp.path() + "/outside"; }
    QString txn() const { return m_tmp.path() + "/txn"; }
    Tree initial() const
    {
        return {{"a.txt", "alpha\n"}, {"dir/b.txt", "beta\n"}, {"keep.txt", "keep\n"}};
    }
    static FileChange change(FileChange::Action a, const QString &path, const QByteArray &c = {},
                             const QString &from = {})
    {
        FileChange f;
        f.action = a;
        f.path = path;
        f.contents = c;
        f.oldPath = from;
        return f;
    }
    bool noSideFiles() const
    {
        for (const QString &f : TestSupport::readTree(root()).keys()) {
            if (f.contains(".gr-"))
                return false;
        }
        return true;
    }

private slots:
    void init()
    {
        QDir(m_tmp.path()).removeRecursively();
        QDir().mkpath(root());
        QDir().mkpath(outside());
        TestSupport::writeTree(root(), initial());
        TestSupport::writeTree(outside(), {{"secret.txt", "secret\n"}});
    }

    void commitsEveryAction()
    {
        Workspace ws(root(), {false, txn()});
        ChangeSet cs;
        cs.changes << change(FileChange::Action::Modified, "a.txt", "ALPHA\n")
                   << change(FileChange::Action::Deleted, "keep.txt")
                   << change(FileChange::Action::Added, "new/deep/c.txt", "gamma\n")
                   << change(FileChange::Action::Renamed, "moved/b.txt", "beta2\n", "dir/b.txt");
        FileChange exec = change(FileChange::Action::Added, "run.sh", "#!/bin/sh\n");
        exec.mode = 0755;
        cs.changes << exec;
        QVERIFY(ws.commit(cs, "t1").ok());
        ws.finalize("t1");
        QCOMPARE(TestSupport::readTree(root()),
                 (Tree{{"a.txt", "ALPHA\n"}, {"moved/b.txt", "beta2\n"}, {"new/deep/c.txt", "gamma\n"},
                       {"run.sh", "#!/bin/sh\n"}}));
        QVERIFY(QFileInfo(root() + "/run.sh").isExecutable());
        QVERIFY(noSideFiles());
        QVERIFY(ws.openTransactions().isEmpty());
    }

    void failureMidCommitLeavesTreeExactlyAsBefore()
    {
        // The second change cannot be written (its target is a directory): the first, already
        // written, must be undone too.
        TestSupport::writeTree(root(), {{"blocker/inside.txt", "x"}});
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root(), {false, txn()});
        ChangeSet cs;
        cs.changes << change(FileChange::Action::Modified, "a.txt", "changed\n")
                   << change(FileChange::Action::Added, "blocker", "file over dir\n");
        const Status s = ws.commit(cs, "t2");
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("write_failed"));
        QCOMPARE(TestSupport::readTree(root()), before);
        QVERIFY(noSideFiles());
        QVERIFY(ws.openTransactions().isEmpty());
    }

    void parentThatIsAFileFails()
    {
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root(), {false, txn()});
        ChangeSet cs;
        cs.changes << change(FileChange::Action::Added, "x/new.txt", "n")
                   << change(FileChange::Action::Added, "a.txt/child", "c");
        QVERIFY(!ws.commit(cs, "t3").ok());
        QCOMPARE(TestSupport::readTree(root()), before);
        QVERIFY(!QFileInfo::exists(root() + "/x")); // the directory it created is gone again
    }

    void rollbackUndoesACommittedTransaction()
    {
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root(), {false, txn()});
        ChangeSet cs;
        cs.changes << change(FileChange::Action::Modified, "a.txt", "A\n")
                   << change(FileChange::Action::Deleted, "keep.txt")
                   << change(FileChange::Action::Added, "n/e/w.txt", "w\n");
        QVERIFY(ws.commit(cs, "t4").ok());
        QVERIFY(TestSupport::readTree(root()) != before);
        QVERIFY(ws.rollback("t4").ok());
        QCOMPARE(TestSupport::readTree(root()), before);
        QVERIFY(!QFileInfo::exists(root() + "/n"));
        QVERIFY(noSideFiles());
    }

    void restartedProcessRollsBackFromTheRecord()
    {
        const Tree before = TestSupport::readTree(root());
        {
            Workspace ws(root(), {false, txn()});
            ChangeSet cs;
            cs.changes << change(FileChange::Action::Modified, "a.txt", "A\n")
                       << change(FileChange::Action::Added, "z.txt", "z\n");
            QVERIFY(ws.commit(cs, "t5").ok());
        } // "crash": no finalize, no rollback
        Workspace restarted(root(), {false, txn()});
        QCOMPARE(restarted.openTransactions(), QStringList{"t5"});
        QVERIFY(restarted.rollback("t5").ok());
        QCOMPARE(TestSupport::readTree(root()), before);
        QVERIFY(restarted.openTransactions().isEmpty());
    }

    void rollbackOfUntouchedTargetDropsBackup()
    {
        // A record whose renames never ran: the backups are hard links to the targets.
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root(), {false, txn()});
        ChangeSet cs;
        cs.changes << change(FileChange::Action::Modified, "a.txt", "A\n");
        QVERIFY(ws.commit(cs, "t6").ok());
        QVERIFY(ws.rollback("t6").ok());
        QVERIFY(ws.commit(cs, "t6").ok()); // the same id again: no stale side files in the way
        ws.finalize("t6");
        QCOMPARE(TestSupport::readFile(root() + "/a.txt"), QByteArray("A\n"));
        QVERIFY(noSideFiles());
        Q_UNUSED(before);
    }

    void readsReportMissingAndModes()
    {
        Workspace ws(root());
        QVERIFY(!ws.read("missing.txt")->exists);
        QVERIFY(ws.read("a.txt")->exists);
        QCOMPARE(ws.read("a.txt")->contents, QByteArray("alpha\n"));
        QVERIFY(ws.checkWritable().ok());
        QCOMPARE(Workspace(m_tmp.path() + "/nope").checkWritable().error().code,
                 QString("workspace_missing"));
    }

    void hostile_data()
    {
        QTest::addColumn<QString>("setup"); // a shell-free description of links to create
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code");
        QTest::newRow("dotdot") << "" << "../outside/secret.txt" << "path_outside_workspace";
        QTest::newRow("inner dotdot") << "" << "dir/../../outside/x" << "path_outside_workspace";
        QTest::newRow("dot then dotdot") << "" << "./../x" << "path_outside_workspace";
        QTest::newRow("backslash dotdot") << "" << "..\\outside\\x" << "path_outside_workspace";
        QTest::newRow("absolute outside") << "" << "@OUTSIDE@/secret.txt" << "path_outside_workspace";
        QTest::newRow("absolute etc") << "" << "/etc/passwd" << "path_outside_workspace";
        QTest::newRow("absolute with dotdot") << "" << "@ROOT@/../outside/secret.txt" << "path_outside_workspace";
        QTest::newRow("home") << "" << "~/.bashrc" << "path_outside_workspace";
        QTest::newRow("windows drive") << "" << "C:\\Windows\\x" << "path_outside_workspace";
        QTest::newRow("git config") << "" << ".git/config" << "path_outside_workspace";
        QTest::newRow("git hook") << "" << ".git/hooks/pre-commit" << "path_outside_workspace";
        QTest::newRow("nul byte") << "" << QString::fromUtf8("a\0b", 3) << "path_invalid";
        QTest::newRow("newline") << "" << "a\nb" << "path_invalid";
        QTest::newRow("empty") << "" << "" << "path_invalid";
        QTest::newRow("symlink file out") << "link.txt->@OUTSIDE@/secret.txt" << "link.txt" << "path_outside_workspace";
        QTest::newRow("symlink dir out") << "linkdir->@OUTSIDE@" << "linkdir/new.txt" << "path_outside_workspace";
        QTest::newRow("symlink to root") << "rootlink->/" << "rootlink/etc/passwd" << "path_outside_workspace";
        QTest::newRow("relative symlink out") << "rel->../outside" << "rel/secret.txt" << "path_outside_workspace";
        QTest::newRow("symlink chain out") << "hop1->hop2;hop2->@OUTSIDE@" << "hop1/x" << "path_outside_workspace";
        QTest::newRow("nested symlink out") << "dir/deep->@OUTSIDE@" << "dir/deep/x.txt" << "path_outside_workspace";
        QTest::newRow("dangling symlink out") << "dangle->@OUTSIDE@/none" << "dangle" << "path_outside_workspace";
        QTest::newRow("device via symlink") << "null->/dev/null" << "null" << "path_outside_workspace";
        QTest::newRow("fifo") << "fifo" << "pipe" << "path_invalid";
        QTest::newRow("directory as file") << "" << "dir" << "path_invalid";
    }
    void hostile()
    {
        QFETCH(QString, setup);
        QFETCH(QString, path);
        QFETCH(QString, code);
        auto expand = [&](QString s) {
            return s.replace("@OUTSIDE@", outside()).replace("@ROOT@", root());
        };
        for (const QString &link : setup.split(';', Qt::SkipEmptyParts)) {
            if (link == "fifo") {
                QCOMPARE(::mkfifo(QFile::encodeName(root() + "/pipe").constData(), 0644), 0);
                continue;
            }
            const QStringList parts = link.split("->");
            QVERIFY(QFile::link(expand(parts[1]), root() + "/" + parts[0]) ||
                    ::symlink(QFile::encodeName(expand(parts[1])).constData(),
                              QFile::encodeName(root() + "/" + parts[0]).constData()) == 0);
        }
        const Tree insideBefore = TestSupport::readTree(root());
        const Tree outsideBefore = TestSupport::readTree(outside());
        Workspace ws(root(), {false, txn()});
        const QString target = expand(path);
        // Reading is refused…
        const Result<FileState> r = ws.read(target);
        if (code == "path_invalid" && path == "dir") {
            QVERIFY(!r.ok());
        } else {
            QVERIFY2(!r.ok(), qPrintable(target));
            QCOMPARE(r.error().code, code);
            QVERIFY(r.error().message.contains("path"));
        }
        // …and so is writing, with nothing written anywhere.
        ChangeSet cs;
        cs.changes << change(FileChange::Action::Added, target, "pwned\n");
        const Status s = ws.commit(cs, "hostile");
        QVERIFY(!s.ok());
        QCOMPARE(TestSupport::readTree(root()), insideBefore);
        QCOMPARE(TestSupport::readTree(outside()), outsideBefore);
        QVERIFY(!QFile::exists("/etc/passwd") || !TestSupport::readFile("/etc/passwd").contains("pwned"));
    }

    void symlinkInsideWorkspaceIsFine()
    {
        QVERIFY(QFile::link(root() + "/dir", root() + "/alias"));
        Workspace ws(root());
        const Result<FileState> r = ws.read("alias/b.txt");
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(r->contents, QByteArray("beta\n"));
    }

    void gitAllowedWhenConfigured()
    {
        Workspace ws(root(), {true, QString()});
        QVERIFY(ws.normalize(".git/config").ok());
    }
};

QTEST_GUILESS_MAIN(tst_Workspace)
#include "tst_workspace.moc"
