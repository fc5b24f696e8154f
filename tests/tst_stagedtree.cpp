#include "stagedtree.h"

#include <QTest>

namespace {
// Counts how the tree reaches its base.
class CountingSource final : public FileSource
{
public:
    MemoryFileSource files;
    mutable int reads = 0;
    mutable QStringList readTogether;
    Result<QString> normalize(const QString &path) const override { return files.normalize(path); }
    Result<FileState> read(const QString &path) const override
    {
        ++reads;
        return files.read(path);
    }
    QList<Result<FileState>> readMany(const QStringList &paths) const override
    {
        readTogether += paths;
        return files.readMany(paths);
    }
};
} // namespace

class tst_StagedTree : public QObject
{
    Q_OBJECT
private slots:
    void readsFallThroughToBase()
    {
        MemoryFileSource base;
        base.setFile("a.txt", "one\n");
        StagedTree tree(base);
        QCOMPARE(tree.read("a.txt")->contents, QByteArray("one\n"));
        QVERIFY(!tree.exists("b.txt"));
        QVERIFY(tree.changeSet()->isEmpty());
    }
    void reportsEachAction()
    {
        MemoryFileSource base;
        base.setFile("mod.txt", "a\nb\nc\n");
        base.setFile("del.txt", "x\n");
        base.setFile("old.txt", "keep\n");
        StagedTree tree(base);
        tree.write("mod.txt", "a\nB\nc\n");
        tree.remove("del.txt");
        tree.write("new.txt", "n1\nn2\n");
        QVERIFY(tree.rename("old.txt", "dir/moved.txt").ok());
        const ChangeSet cs = tree.changeSet().value();
        QCOMPARE(cs.changes.size(), 4);
        QCOMPARE(cs.changes[0].path, QString("del.txt"));
        QCOMPARE(cs.changes[0].action, FileChange::Action::Deleted);
        QCOMPARE(cs.changes[1].path, QString("dir/moved.txt"));
        QCOMPARE(cs.changes[1].action, FileChange::Action::Renamed);
        QCOMPARE(cs.changes[1].oldPath, QString("old.txt"));
        QCOMPARE(cs.changes[2].path, QString("mod.txt"));
        QCOMPARE(cs.changes[2].linesAdded, 1);
        QCOMPARE(cs.changes[2].linesRemoved, 1);
        QCOMPARE(cs.changes[3].action, FileChange::Action::Added);
    }
    // prefetch() reads what nothing has written in one readMany(); read() then finds it at hand.
    // Counts given to write() are the ones the change set reports.
    void prefetchAndGivenCounts()
    {
        CountingSource base;
        base.files.setFile("a.txt", "1\n2\n3\n");
        base.files.setFile("b.txt", "b\n");
        StagedTree tree(base);
        tree.write("b.txt", "B\n");
        const int before = base.reads;
        tree.prefetch({"a.txt", "b.txt", "missing.txt"});
        QCOMPARE(base.readTogether, (QStringList{"a.txt", "missing.txt"}));
        QCOMPARE(tree.read("a.txt")->contents, QByteArray("1\n2\n3\n"));
        QVERIFY(!tree.exists("missing.txt"));
        QCOMPARE(base.reads, before);
        tree.prefetch({"a.txt"}); // already at hand
        QCOMPARE(base.readTogether.size(), 2);
        tree.write("a.txt", "1\nX\n3\n", StagedTree::LineCounts{7, 5});
        const ChangeSet cs = tree.changeSet().value();
        QCOMPARE(cs.changes.size(), 2);
        QCOMPARE(cs.changes[0].path, QString("a.txt"));
        QCOMPARE(cs.changes[0].linesAdded, 7);
        QCOMPARE(cs.changes[0].linesRemoved, 5);
        QCOMPARE(base.reads, before);
    }
    void createThenDeleteIsNothing()
    {
        MemoryFileSource base;
        StagedTree tree(base);
        tree.write("tmp.txt", "x");
        tree.remove("tmp.txt");
        QVERIFY(tree.changeSet()->isEmpty());
    }
    void renameOfMissingFileFails()
    {
        MemoryFileSource base;
        StagedTree tree(base);
        const Status s = tree.rename("nope", "b");
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("file_not_found"));
    }
    void modeChangeAlone()
    {
        MemoryFileSource base;
        base.setFile("run.sh", "#!/bin/sh\n", 0644);
        StagedTree tree(base);
        tree.setMode("run.sh", 0755);
        const ChangeSet cs = tree.changeSet().value();
        QCOMPARE(cs.changes.size(), 1);
        QCOMPARE(*cs.changes[0].mode, 0755);
    }
    void countChangedLines_data()
    {
        QTest::addColumn<QByteArray>("before");
        QTest::addColumn<QByteArray>("after");
        QTest::addColumn<int>("added");
        QTest::addColumn<int>("removed");
        QTest::newRow("new file") << QByteArray() << QByteArray("1\n2\n3\n") << 3 << 0;
        QTest::newRow("new file, no final newline") << QByteArray() << QByteArray("1\n2") << 2 << 0;
        QTest::newRow("deleted file") << QByteArray("1\n2\n") << QByteArray() << 0 << 2;
        QTest::newRow("one line changed")
            << QByteArray("a\nb\nc\n") << QByteArray("a\nB\nc\n") << 1 << 1;
        QTest::newRow("line inserted") << QByteArray("a\nc\n") << QByteArray("a\nb\nc\n") << 1 << 0;
        QTest::newRow("final newline added")
            << QByteArray("a\nb") << QByteArray("a\nb\n") << 1 << 1;
        QTest::newRow("unchanged") << QByteArray("a\n") << QByteArray("a\n") << 0 << 0;
    }
    void countChangedLines()
    {
        QFETCH(QByteArray, before);
        QFETCH(QByteArray, after);
        QFETCH(int, added);
        QFETCH(int, removed);
        int a = -1;
        int r = -1;
        ::countChangedLines(before, after, &a, &r);
        QCOMPARE(a, added);
        QCOMPARE(r, removed);
    }
};

QTEST_GUILESS_MAIN(tst_StagedTree)
#include "tst_stagedtree.moc"
