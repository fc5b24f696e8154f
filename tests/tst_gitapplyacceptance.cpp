// git's own `git apply` test data (tests/data/git-apply, see its README) replayed through
// UnifiedDiffParser: t4101 (no newline at end of file), t4109 (sequential patches), t4110 (offset
// search both ways) and t4100 (what the parser understood, as `git apply --stat --summary`).
#include "testsupport.h"
#include "unifieddiffparser.h"

#include <QFile>
#include <QTest>

namespace {
QString dataDir()
{
    return QStringLiteral(GR_TEST_DATA "/git-apply/");
}

QByteArray readData(const QString &relative)
{
    QFile f(dataDir() + relative);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read test data %s", qPrintable(f.fileName()));
    return f.readAll();
}

// One patch after another: each applies to what the previous ones produced, as a workspace would
// see it after a commit. Returns the final files, or the first error.
Result<QMap<QString, QByteArray>> applyInSequence(QMap<QString, QByteArray> files,
                                                  const QStringList &patches)
{
    for (const QString &patch : patches) {
        MemoryFileSource base(files);
        StagedTree tree(base);
        const Status s = UnifiedDiffParser::apply(readData(patch), tree);
        if (!s.ok())
            return s.error();
        const Result<ChangeSet> cs = tree.changeSet();
        if (!cs.ok())
            return cs.error();
        files = TestSupport::applyChangeSet(files, *cs);
    }
    return files;
}

QString describe(const Error &e)
{
    return QStringLiteral("%1: %2 (%3)").arg(e.code, e.message, e.detail);
}
} // namespace

class tst_GitApplyAcceptance : public QObject
{
    Q_OBJECT
private slots:
    void t4101_noNewlineAtEof_data()
    {
        QTest::addColumn<int>("from");
        QTest::addColumn<int>("to");
        int cases = 0;
        for (int i = 0; i <= 3; ++i) {
            for (int j = 0; j <= 3; ++j) {
                if (i == j)
                    continue;
                QTest::addRow("diff.%d-%d", i, j) << i << j;
                ++cases;
            }
        }
        QCOMPARE(cases, 12);
    }
    void t4101_noNewlineAtEof()
    {
        QFETCH(int, from);
        QFETCH(int, to);
        const QByteArray before = readData(QStringLiteral("t4101/frotz/frotz.%1").arg(from));
        const QByteArray after = readData(QStringLiteral("t4101/frotz/frotz.%1").arg(to));
        QVERIFY(before != after);
        const Result<QMap<QString, QByteArray>> files = applyInSequence(
            {{"frotz", before}}, {QStringLiteral("t4101/diff.%1-%2").arg(from).arg(to)});
        QVERIFY2(files.ok(), qPrintable(describe(files.error())));
        QCOMPARE(files->keys(), QStringList{"frotz"});
        QCOMPARE(files->value("frotz"), after);
    }

    void t4109_sequentialPatches_data()
    {
        QTest::addColumn<QStringList>("patches");
        QTest::addColumn<QString>("expect");
        QTest::newRow("patch1+2") << QStringList{"t4109/patch1.patch", "t4109/patch2.patch"}
                                  << "t4109/expect-1";
        QTest::newRow("patch1+2+3")
            << QStringList{"t4109/patch1.patch", "t4109/patch2.patch", "t4109/patch3.patch"}
            << "t4109/expect-2";
        QTest::newRow("patch1+4") << QStringList{"t4109/patch1.patch", "t4109/patch4.patch"}
                                  << "t4109/expect-3";
    }
    void t4109_sequentialPatches()
    {
        QFETCH(QStringList, patches);
        QFETCH(QString, expect);
        const Result<QMap<QString, QByteArray>> files = applyInSequence({}, patches);
        QVERIFY2(files.ok(), qPrintable(describe(files.error())));
        QCOMPARE(files->keys(), QStringList{"main.c"});
        QCOMPARE(files->value("main.c"), readData(expect));
    }

    void t4110_offsetsBothWays()
    {
        QStringList patches;
        for (int i = 1; i <= 5; ++i)
            patches << QStringLiteral("t4110/patch%1.patch").arg(i);
        const Result<QMap<QString, QByteArray>> files = applyInSequence({}, patches);
        QVERIFY2(files.ok(), qPrintable(describe(files.error())));
        QCOMPARE(files->keys(), QStringList{"new.txt"});
        QCOMPARE(files->value("new.txt"), readData("t4110/expect"));
    }

    void t4110_laterHunksNeedTheOffsetSearch()
    {
        // patch3 states line 6, but after patch2 the context starts at line 2: a note says so.
        MemoryFileSource base;
        const Result<QMap<QString, QByteArray>> after2 =
            applyInSequence({}, {"t4110/patch1.patch", "t4110/patch2.patch"});
        QVERIFY(after2.ok());
        base.setFile("new.txt", after2->value("new.txt"));
        StagedTree tree(base);
        QVERIFY(UnifiedDiffParser::apply(readData("t4110/patch3.patch"), tree).ok());
        QCOMPARE(tree.notes().size(), 1);
        QVERIFY2(tree.notes().first().contains("offset -4"), qPrintable(tree.notes().first()));
    }

    // t4100: the .expect files are `git apply --stat --summary` output. summary() reproduces git's
    // layout (apply.c: show_stats, summary_patch_list), so the comparison is exact; the one
    // deliberate difference is that git prints nothing for a patch it cannot parse, and neither
    // case occurs in these files.
    void t4100_statSummary_data()
    {
        QTest::addColumn<int>("n");
        for (int n = 1; n <= 9; ++n)
            QTest::addRow("t-apply-%d", n) << n;
    }
    void t4100_statSummary()
    {
        QFETCH(int, n);
        const Result<QList<FilePatch>> patches =
            UnifiedDiffParser::parse(readData(QStringLiteral("t4100/t-apply-%1.patch").arg(n)));
        QVERIFY2(patches.ok(), qPrintable(describe(patches.error())));
        const QString expected =
            QString::fromUtf8(readData(QStringLiteral("t4100/t-apply-%1.expect").arg(n)));
        QCOMPARE(UnifiedDiffParser::summary(patches.value()), expected);
    }

    // The same files, checked field by field, so that a summary() bug cannot hide a parser bug.
    void t4100_understood_data()
    {
        QTest::addColumn<int>("n");
        QTest::addColumn<QStringList>("expected"); // one "kind old -> new" per file section
        QTest::newRow("renames") << 1
                                 << QStringList{
                                        "rename Documentation/git-rpull.txt -> "
                                        "Documentation/git-ssh-pull.txt",
                                        "rename Documentation/git-rpush.txt -> "
                                        "Documentation/git-ssh-push.txt",
                                        "modify Documentation/git.txt -> Documentation/git.txt",
                                        "modify Makefile -> Makefile",
                                        "rename rpull.c -> ssh-pull.c",
                                        "rename rpush.c -> ssh-push.c"};
        QTest::newRow("copy") << 2
                              << QStringList{"modify Makefile -> Makefile",
                                             "copy git-pull-script -> git-fetch-script",
                                             "modify git-pull-script -> git-pull-script"};
        QTest::newRow("rewrite, unprefixed ---")
            << 3
            << QStringList{"modify Documentation/git-ls-tree.txt"
                           " -> Documentation/git-ls-tree.txt",
                           "modify ls-tree.c -> ls-tree.c",
                           "modify t/t3100-ls-tree-restrict.sh"
                           " -> t/t3100-ls-tree-restrict.sh",
                           "modify tree.c -> tree.c", "modify tree.h -> tree.h"};
        QTest::newRow("mode changes")
            << 4
            << QStringList{"chmod 100644->100755 t/t0000-basic.sh -> t/t0000-basic.sh",
                           "chmod 100644->100755 t/test-lib.sh -> t/test-lib.sh"};
        QTest::newRow("non-git create/delete")
            << 5
            << QStringList{"delete Documentation/git-rpull.txt -> ",
                           "delete Documentation/git-rpush.txt -> ",
                           "create  -> Documentation/git-ssh-pull.txt",
                           "create  -> Documentation/git-ssh-push.txt",
                           "modify Documentation/git.txt -> Documentation/git.txt",
                           "modify Makefile -> Makefile",
                           "delete rpull.c -> ",
                           "delete rpush.c -> ",
                           "create  -> ssh-pull.c",
                           "create  -> ssh-push.c"};
        QTest::newRow("non-git create")
            << 6
            << QStringList{"modify Makefile -> Makefile", "create  -> git-fetch-script",
                           "modify git-pull-script -> git-pull-script"};
        QTest::newRow("no newline, git (1)")
            << 8 << QStringList{"modify t/t4100-apply-stat.sh -> t/t4100-apply-stat.sh"};
        QTest::newRow("no newline, git (2)")
            << 9 << QStringList{"modify t/t4100-apply-stat.sh -> t/t4100-apply-stat.sh"};
    }
    void t4100_understood()
    {
        QFETCH(int, n);
        QFETCH(QStringList, expected);
        const Result<QList<FilePatch>> patches =
            UnifiedDiffParser::parse(readData(QStringLiteral("t4100/t-apply-%1.patch").arg(n)));
        QVERIFY(patches.ok());
        QStringList got;
        for (const FilePatch &p : patches.value()) {
            QString kind = p.isNew      ? "create"
                           : p.isDelete ? "delete"
                           : p.isRename ? "rename"
                           : p.isCopy   ? "copy"
                                        : "modify";
            if (p.oldMode && p.newMode && *p.oldMode != *p.newMode)
                kind = QStringLiteral("chmod %1->%2")
                           .arg(QString::number(*p.oldMode, 8), QString::number(*p.newMode, 8));
            got << QStringLiteral("%1 %2 -> %3").arg(kind, p.oldPath, p.newPath);
        }
        QCOMPARE(got, expected);
    }

    void t4100_noNewlineMarkers()
    {
        // t-apply-8 drops the final newline (marker after "+"), t-apply-9 restores it.
        const auto parsed = [](int n) {
            return UnifiedDiffParser::parse(
                       readData(QStringLiteral("t4100/t-apply-%1.patch").arg(n)))
                .value()
                .first()
                .hunks.first();
        };
        const Hunk drops = parsed(8);
        QVERIFY(!drops.oldEndsWithoutNewline());
        QVERIFY(drops.newEndsWithoutNewline());
        const Hunk restores = parsed(9);
        QVERIFY(restores.oldEndsWithoutNewline());
        QVERIFY(!restores.newEndsWithoutNewline());
        QCOMPARE(restores.oldCount, 4);
        QCOMPARE(restores.newCount, 4);
    }
};

QTEST_GUILESS_MAIN(tst_GitApplyAcceptance)
#include "tst_gitapplyacceptance.moc"
