#include "testsupport.h"
#include "unifieddiffparser.h"

#include <QTest>
#include <limits>

using Tree = QMap<QString, QByteArray>;
Q_DECLARE_METATYPE(Tree)

namespace {
const QByteArray abc = "alpha\nbeta\ngamma\n";
// Ten numbered lines, for offsets and multi-hunk cases.
const QByteArray ten = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n";

// Everything parse() says about a diff, as text, to compare two parses of it.
QString describe(const Result<QList<FilePatch>> &r)
{
    if (!r.ok())
        return QStringLiteral("error %1 %2 %3 %4")
            .arg(r.error().code, r.error().file, QString::number(r.error().hunk),
                 r.error().message);
    QString out;
    for (const FilePatch &f : *r) {
        out += QStringLiteral(
                   "file %1 -> %2 git%3 new%4 del%5 ren%6 copy%7 bin%8 %9 %10 %11 %12 @%13\n")
                   .arg(f.oldPath, f.newPath)
                   .arg(f.isGit)
                   .arg(f.isNew)
                   .arg(f.isDelete)
                   .arg(f.isRename)
                   .arg(f.isCopy)
                   .arg(f.isBinary)
                   .arg(f.oldMode.value_or(-1))
                   .arg(f.newMode.value_or(-1))
                   .arg(f.similarity)
                   .arg(f.dissimilarity)
                   .arg(f.diffLine);
        for (const Hunk &h : f.hunks) {
            out += QStringLiteral("hunk %1,%2 %3,%4 (%5,%6) %7 @%8\n")
                       .arg(h.oldStart)
                       .arg(h.oldCount)
                       .arg(h.newStart)
                       .arg(h.newCount)
                       .arg(h.declaredOldCount)
                       .arg(h.declaredNewCount)
                       .arg(QString::fromUtf8(h.section))
                       .arg(h.diffLine);
            for (const HunkLine &l : h.lines)
                out += QLatin1Char(l.kind) + QString::fromUtf8(l.text) +
                       (l.cr ? QStringLiteral("<CR>") : QString()) +
                       (l.noNewline ? QStringLiteral("<NONL>") : QString()) + QLatin1Char('\n');
        }
    }
    return out;
}

// A diff parsed in one pass and in pieces of a few lines each gives the same sections.
void verifyPiecewiseParse(const QByteArray &diff)
{
    UnifiedDiffParser::Options onePass;
    onePass.piecewiseFromLines = std::numeric_limits<int>::max();
    UnifiedDiffParser::Options pieces;
    pieces.piecewiseFromLines = 1;
    QCOMPARE(describe(UnifiedDiffParser::parse(diff, pieces)),
             describe(UnifiedDiffParser::parse(diff, onePass)));
}
} // namespace

class tst_UnifiedDiffParser : public QObject
{
    Q_OBJECT
private slots:
    void appliesCleanly_data()
    {
        QTest::addColumn<Tree>("before");
        QTest::addColumn<QByteArray>("diff");
        QTest::addColumn<Tree>("after");
        QTest::addColumn<QStringList>("notes"); // substrings, one per expected note, in order

        QTest::newRow("modify one line")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n "
                          "gamma\n")
            << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
        QTest::newRow("append at end")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -2,2 +2,3 @@\n beta\n gamma\n+delta\n")
            << Tree{{"a.txt", "alpha\nbeta\ngamma\ndelta\n"}} << QStringList();
        QTest::newRow("insert at start")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,3 @@\n+zero\n alpha\n beta\n")
            << Tree{{"a.txt", "zero\nalpha\nbeta\ngamma\n"}} << QStringList();
        QTest::newRow("remove lines")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,1 @@\n-alpha\n-beta\n gamma\n")
            << Tree{{"a.txt", "gamma\n"}} << QStringList();
        QTest::newRow("two hunks, second shifted by the first")
            << Tree{{"n.txt", ten}}
            << QByteArray("--- a/n.txt\n+++ b/n.txt\n"
                          "@@ -1,2 +1,4 @@\n l1\n+new1\n+new2\n l2\n"
                          "@@ -8,3 +10,2 @@\n l8\n-l9\n l10\n")
            << Tree{{"n.txt", "l1\nnew1\nnew2\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl10\n"}}
            << QStringList();
        QTest::newRow("wrong line numbers: offset search")
            << Tree{{"n.txt", ten}}
            << QByteArray("--- a/n.txt\n+++ b/n.txt\n@@ -2,3 +2,3 @@\n l6\n-l7\n+L7\n l8\n")
            << Tree{{"n.txt", "l1\nl2\nl3\nl4\nl5\nl6\nL7\nl8\nl9\nl10\n"}}
            << QStringList{"hunk 1 of n.txt applied at offset +4 (line 6)"};
        QTest::newRow("second hunk inherits the first hunk's offset")
            << Tree{{"n.txt", "x\nx\n" + ten}}
            << QByteArray("--- a/n.txt\n+++ b/n.txt\n"
                          "@@ -1,2 +1,2 @@\n-l1\n+L1\n l2\n@@ -9,2 +9,2 @@\n l9\n-l10\n+L10\n")
            << Tree{{"n.txt", "x\nx\nL1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nL10\n"}}
            << QStringList{"hunk 1 of n.txt applied at offset +2",
                           "hunk 2 of n.txt applied at offset +2"};
        QTest::newRow("wrong hunk counts")
            << Tree{{"a.txt", abc}}
            << QByteArray(
                   "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n alpha\n-beta\n+BETA\n+beta2\n "
                   "gamma\n")
            << Tree{{"a.txt", "alpha\nBETA\nbeta2\ngamma\n"}}
            << QStringList{"the header says -1,2 +1,2 but the body has 3 old and 4 new lines"};
        QTest::newRow("counts too large, next file follows")
            << Tree{{"a.txt", abc}, {"b.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -1,9 +1,9 @@\n-alpha\n+ALPHA\n"
                          "--- a/b.txt\n+++ b/b.txt\n@@ -3,1 +3,1 @@\n-gamma\n+GAMMA\n")
            << Tree{{"a.txt", "ALPHA\nbeta\ngamma\n"}, {"b.txt", "alpha\nbeta\nGAMMA\n"}}
            << QStringList{"hunk 1 of a.txt: the header says -1,9 +1,9"};
        QTest::newRow("hunk header without numbers")
            << Tree{{"n.txt", ten}}
            << QByteArray("--- a/n.txt\n+++ b/n.txt\n@@ @@\n l4\n-l5\n+L5\n@@ @@\n-l9\n+L9\n")
            << Tree{{"n.txt", "l1\nl2\nl3\nl4\nL5\nl6\nl7\nl8\nL9\nl10\n"}} << QStringList();
        QTest::newRow("diff without its final newline")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -3 +3 @@\n-gamma\n+GAMMA")
            << Tree{{"a.txt", "alpha\nbeta\nGAMMA\n"}} << QStringList();
        QTest::newRow("tab/space drift: whitespace-insensitive")
            << Tree{{"f.c", "int f()\n{\n\tint x = 1;\n\treturn x;\n}\n"}}
            << QByteArray(
                   "--- a/f.c\n+++ b/f.c\n@@ -2,4 +2,4 @@\n {\n-    int x = 1;\n+    int x = 2;\n "
                   "    return x;\n }\n")
            << Tree{{"f.c", "int f()\n{\n    int x = 2;\n\treturn x;\n}\n"}}
            << QStringList{"hunk 1 of f.c applied ignoring whitespace (line 2)"};
        QTest::newRow("repeated context: nearest to the stated line wins")
            << Tree{{"r.txt", "begin\nv = 1\nend\nmid\nmid\nmid\nbegin\nv = 1\nend\n"}}
            << QByteArray(
                   "--- a/r.txt\n+++ b/r.txt\n@@ -6,3 +6,3 @@\n begin\n-v = 1\n+v = 2\n end\n")
            << Tree{{"r.txt", "begin\nv = 1\nend\nmid\nmid\nmid\nbegin\nv = 2\nend\n"}}
            << QStringList{"offset +1"};
        QTest::newRow("CRLF file, LF diff: stays CRLF")
            << Tree{{"w.txt", "one\r\ntwo\r\nthree\r\n"}}
            << QByteArray(
                   "--- a/w.txt\n+++ b/w.txt\n@@ -1,3 +1,4 @@\n one\n-two\n+TWO\n+2b\n three\n")
            << Tree{{"w.txt", "one\r\nTWO\r\n2b\r\nthree\r\n"}} << QStringList();
        QTest::newRow("CRLF diff, LF file: stays LF")
            << Tree{{"u.txt", "one\ntwo\n"}}
            << QByteArray(
                   "--- a/u.txt\r\n+++ b/u.txt\r\n@@ -1,2 +1,2 @@\r\n one\r\n-two\r\n+TWO\r\n")
            << Tree{{"u.txt", "one\nTWO\n"}} << QStringList();
        QTest::newRow("CRLF diff creates a CRLF file")
            << Tree()
            << QByteArray("--- /dev/null\r\n+++ b/w.txt\r\n@@ -0,0 +1,2 @@\r\n+one\r\n+two\r\n")
            << Tree{{"w.txt", "one\r\ntwo\r\n"}} << QStringList();
        QTest::newRow("no newline at end: removed")
            << Tree{{"a.txt", abc}}
            << QByteArray(
                   "--- a/a.txt\n+++ b/a.txt\n@@ -3 +3 @@\n-gamma\n+gamma\n\\ No newline at end "
                   "of file\n")
            << Tree{{"a.txt", "alpha\nbeta\ngamma"}} << QStringList();
        QTest::newRow("no newline at end: added")
            << Tree{{"a.txt", "alpha\nbeta\ngamma"}}
            << QByteArray(
                   "--- a/a.txt\n+++ b/a.txt\n@@ -2,2 +2,3 @@\n beta\n-gamma\n\\ No newline at "
                   "end of file\n+gamma\n+delta\n")
            << Tree{{"a.txt", "alpha\nbeta\ngamma\ndelta\n"}} << QStringList();
        QTest::newRow("no newline at end: kept by an edit elsewhere")
            << Tree{{"a.txt", "alpha\nbeta\ngamma"}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n-alpha\n+ALPHA\n beta\n")
            << Tree{{"a.txt", "ALPHA\nbeta\ngamma"}} << QStringList();
        QTest::newRow("no newline at end: kept when the marker is forgotten")
            << Tree{{"a.txt", "alpha\nbeta\ngamma"}}
            << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -2,2 +2,2 @@\n-beta\n+BETA\n gamma\n")
            << Tree{{"a.txt", "alpha\nBETA\ngamma"}} << QStringList();
        QTest::newRow("new file (git)")
            << Tree()
            << QByteArray("diff --git a/src/new.c b/src/new.c\nnew file mode 100644\nindex "
                          "0000000..e69de29\n--- /dev/null\n+++ b/src/new.c\n@@ -0,0 +1,2 @@\n+int "
                          "x;\n+int y;\n")
            << Tree{{"src/new.c", "int x;\nint y;\n"}} << QStringList();
        QTest::newRow("new empty file (git, no hunks)")
            << Tree()
            << QByteArray(
                   "diff --git a/empty b/empty\nnew file mode 100644\nindex 0000000..e69de29\n")
            << Tree{{"empty", ""}} << QStringList();
        QTest::newRow("new file (traditional) without final newline")
            << Tree()
            << QByteArray(
                   "--- /dev/null\n+++ notes.txt\n@@ -0,0 +1 @@\n+just one\n\\ No newline at "
                   "end of file\n")
            << Tree{{"notes.txt", "just one"}} << QStringList();
        QTest::newRow("new file written as an edit of nothing")
            << Tree()
            << QByteArray("--- a/tool.py\n+++ b/tool.py\n@@ -0,0 +1,2 @@\n+import os\n+print(os)\n")
            << Tree{{"tool.py", "import os\nprint(os)\n"}}
            << QStringList{"tool.py did not exist; created it"};
        QTest::newRow("delete file (git)")
            << Tree{{"a.txt", abc}, {"keep", "k\n"}}
            << QByteArray("diff --git a/a.txt b/a.txt\ndeleted file mode 100644\n--- a/a.txt\n+++ "
                          "/dev/null\n@@ -1,3 +0,0 @@\n-alpha\n-beta\n-gamma\n")
            << Tree{{"keep", "k\n"}} << QStringList();
        QTest::newRow("delete file (traditional)")
            << Tree{{"a.txt", abc}}
            << QByteArray(
                   "--- a.txt\t2024-05-01 10:00:00.000000000 +0200\n+++ /dev/null\t1970-01-01 "
                   "00:00:00.000000000 +0000\n@@ -1,3 +0,0 @@\n-alpha\n-beta\n-gamma\n")
            << Tree() << QStringList();
        QTest::newRow("rename without edits")
            << Tree{{"old/name.txt", abc}}
            << QByteArray("diff --git a/old/name.txt b/new/name.txt\nsimilarity index 100%\nrename "
                          "from old/name.txt\nrename to new/name.txt\n")
            << Tree{{"new/name.txt", abc}} << QStringList();
        QTest::newRow("rename with edits")
            << Tree{{"a.txt", abc}}
            << QByteArray(
                   "diff --git a/a.txt b/b.txt\nsimilarity index 80%\nrename from a.txt\nrename "
                   "to b.txt\nindex 1111111..2222222 100644\n--- a/a.txt\n+++ b/b.txt\n@@ "
                   "-1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n")
            << Tree{{"b.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
        QTest::newRow("copy with edits, source then modified")
            << Tree{{"a.txt", abc}}
            << QByteArray(
                   "diff --git a/a.txt b/c.txt\nsimilarity index 90%\ncopy from a.txt\ncopy to "
                   "c.txt\n--- a/a.txt\n+++ b/c.txt\n@@ -3 +3 @@\n-gamma\n+GAMMA\n"
                   "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-alpha\n"
                   "+ALPHA\n")
            << Tree{{"a.txt", "ALPHA\nbeta\ngamma\n"}, {"c.txt", "alpha\nbeta\nGAMMA\n"}}
            << QStringList();
        QTest::newRow("several files, commit message and signature around them")
            << Tree{{"a.txt", abc}, {"n.txt", ten}}
            << QByteArray(
                   "From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] two files\n\n- fix "
                   "a\n- fix n\n---\n a.txt | 2 +-\n n.txt | 2 +-\n\n"
                   "diff --git a/a.txt b/a.txt\nindex 1..2 100644\n--- a/a.txt\n+++ b/a.txt\n"
                   "@@ -1,2 +1,2 @@\n-alpha\n+ALPHA\n beta\n"
                   "diff --git a/n.txt b/n.txt\nindex 3..4 100644\n--- a/n.txt\n+++ b/n.txt\n"
                   "@@ -10 +10 @@\n-l10\n+L10\n-- \n2.43.0\n\n")
            << Tree{{"a.txt", "ALPHA\nbeta\ngamma\n"},
                    {"n.txt", "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nL10\n"}}
            << QStringList();
        QTest::newRow("quoted names with escapes")
            << Tree{{"dir/with space\tand\"quote", "x\n"},
                    {QString::fromUtf8("caf\xc3\xa9.txt"), "y\n"}}
            << QByteArray(
                   "diff --git \"a/dir/with space\\tand\\\"quote\" \"b/dir/with "
                   "space\\tand\\\"quote\"\n--- \"a/dir/with space\\tand\\\"quote\"\n+++ "
                   "\"b/dir/with space\\tand\\\"quote\"\n@@ -1 +1 @@\n-x\n+X\n"
                   "diff --git \"a/caf\\303\\251.txt\" \"b/caf\\303\\251.txt\"\n--- "
                   "\"a/caf\\303\\251.txt\"\n+++ \"b/caf\\303\\251.txt\"\n@@ -1 +1 @@\n-y\n+Y\n")
            << Tree{{"dir/with space\tand\"quote", "X\n"},
                    {QString::fromUtf8("caf\xc3\xa9.txt"), "Y\n"}}
            << QStringList();
        QTest::newRow("unquoted name with spaces, tab before the timestamp")
            << Tree{{"my file.txt", "x\n"}}
            << QByteArray("--- my file.txt\t2024-01-01 00:00:00\n+++ my file.txt\t2024-01-02 "
                          "00:00:00\n@@ -1 +1 @@\n-x\n+y\n")
            << Tree{{"my file.txt", "y\n"}} << QStringList();
        QTest::newRow("traditional file.orig / file, timestamps after spaces")
            << Tree{{"main.c", "int a;\n"}}
            << QByteArray(
                   "diff -u main.c.orig main.c\n--- main.c.orig 2024-03-01 12:00:00.000000000 "
                   "+0100\n+++ main.c 2024-03-01 12:05:00.000000000 +0100\n@@ -1 +1 @@\n-int "
                   "a;\n+int b;\n")
            << Tree{{"main.c", "int b;\n"}} << QStringList();
        QTest::newRow("-p0 paths (no a/ b/)")
            << Tree{{"src/x.c", abc}}
            << QByteArray("Index: src/x.c\n===================================================\n"
                          "--- src/x.c\t(revision 12)\n+++ src/x.c\t(working copy)\n@@ -1 +1 @@\n"
                          "-alpha\n+ALPHA\n")
            << Tree{{"src/x.c", "ALPHA\nbeta\ngamma\n"}} << QStringList();
        QTest::newRow("blank context line lost its space")
            << Tree{{"p.py", "def f():\n    a = 1\n\n    return a\n"}}
            << QByteArray(
                   "--- a/p.py\n+++ b/p.py\n@@ -1,4 +1,4 @@\n def f():\n-    a = 1\n+    a = "
                   "2\n\n     return a\n")
            << Tree{{"p.py", "def f():\n    a = 2\n\n    return a\n"}} << QStringList();
        QTest::newRow("\"--- x\" then \"+++ y\" inside a hunk is not a header")
            << Tree{{"q.sql", "select 1;\n-- old comment\nselect 2;\n"}}
            << QByteArray("--- a/q.sql\n+++ b/q.sql\n@@ -1,3 +1,3 @@\n select 1;\n--- old "
                          "comment\n+++ new\n select 2;\n")
            << Tree{{"q.sql", "select 1;\n++ new\nselect 2;\n"}} << QStringList();
        QTest::newRow("mode change only keeps contents")
            << Tree{{"run.sh", "#!/bin/sh\n"}}
            << QByteArray("diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n")
            << Tree{{"run.sh", "#!/bin/sh\n"}} << QStringList();
    }
    void appliesCleanly()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, diff);
        QFETCH(Tree, after);
        QFETCH(QStringList, notes);
        QVERIFY(UnifiedDiffParser::looksLike(diff));
        TestSupport::verifyStagedApply(
            before, [&](StagedTree &t) { return UnifiedDiffParser::apply(diff, t); }, after, notes);
        verifyPiecewiseParse(diff);
    }

    void fails_data()
    {
        QTest::addColumn<Tree>("before");
        QTest::addColumn<QByteArray>("diff");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("hunk");
        QTest::addColumn<QString>("message"); // substring

        const QByteArray modifyA = "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-alpha\n+ALPHA\n";
        QTest::newRow("empty input") << Tree() << QByteArray() << "bad_patch"
                                     << "" << 0 << "no file sections";
        QTest::newRow("prose only")
            << Tree{{"a.txt", abc}} << QByteArray("Please change alpha to ALPHA.\n") << "bad_patch"
            << "" << 0 << "no file sections";
        QTest::newRow("hunk without a file header")
            << Tree{{"a.txt", abc}} << QByteArray("@@ -1 +1 @@\n-alpha\n+ALPHA\n") << "bad_patch"
            << "" << 0 << "outside any file section";
        QTest::newRow("combined diff")
            << Tree{{"a.txt", abc}}
            << QByteArray(
                   "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@@ -1 -1 +1 @@@\n- "
                   "alpha\n")
            << "bad_patch"
            << "a.txt" << 0 << "combined";
        QTest::newRow("traditional section without hunks")
            << Tree{{"a.txt", abc}} << QByteArray("--- a/a.txt\n+++ b/a.txt\n") << "bad_patch"
            << "a.txt" << 0 << "no hunks";
        QTest::newRow("hunk does not match")
            << Tree{{"a.txt", abc}}
            << QByteArray(
                   "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n alpha\n-BETA\n+beta2\n gamma\n")
            << "hunk_failed"
            << "a.txt" << 1 << "hunk 1 of a.txt did not match near line 2";
        QTest::newRow("second hunk does not match")
            << Tree{{"n.txt", ten}}
            << QByteArray(
                   "--- a/n.txt\n+++ b/n.txt\n@@ -1 +1 @@\n-l1\n+L1\n@@ -5 +5 @@\n-l55\n+L5\n")
            << "hunk_failed"
            << "n.txt" << 2 << "hunk 2 of n.txt";
        QTest::newRow("modify a missing file") << Tree() << modifyA << "file_not_found"
                                               << "a.txt" << 0 << "does not exist";
        QTest::newRow("delete a missing file")
            << Tree()
            << QByteArray("diff --git a/a.txt b/a.txt\ndeleted file mode 100644\n--- a/a.txt\n+++ "
                          "/dev/null\n@@ -1 +0,0 @@\n-alpha\n")
            << "file_not_found"
            << "a.txt" << 0 << "cannot delete";
        QTest::newRow("rename a missing file")
            << Tree() << QByteArray("diff --git a/x b/y\nrename from x\nrename to y\n")
            << "file_not_found"
            << "x" << 0 << "cannot rename";
        QTest::newRow("create an existing file")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+new\n") << "file_exists"
            << "a.txt" << 0 << "already exists";
        QTest::newRow("rename onto an existing file")
            << Tree{{"x", "1\n"}, {"y", "2\n"}}
            << QByteArray("diff --git a/x b/y\nrename from x\nrename to y\n") << "file_exists"
            << "y" << 0 << "already exists";
        QTest::newRow("delete with other contents")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-alpha\n-BETA\n-gamma\n")
            << "hunk_failed"
            << "a.txt" << 1 << "did not match";
        QTest::newRow("delete that leaves lines")
            << Tree{{"a.txt", abc}}
            << QByteArray("--- a/a.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-alpha\n-beta\n")
            << "hunk_failed"
            << "a.txt" << 1 << "does not remove all";
        QTest::newRow("delete without contents")
            << Tree{{"a.txt", abc}}
            << QByteArray("diff --git a/a.txt b/a.txt\ndeleted file mode 100644\n") << "hunk_failed"
            << "a.txt" << 0 << "does not remove all";
        QTest::newRow("dot-dot path")
            << Tree() << QByteArray("--- /dev/null\n+++ b/../x\n@@ -0,0 +1 @@\n+pwned\n")
            << "path_outside_workspace"
            << "../x" << 0 << "..";
        QTest::newRow("absolute path")
            << Tree() << QByteArray("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n")
            << "path_outside_workspace"
            << "/etc/passwd" << 0 << "absolute";
        QTest::newRow("absolute path behind a/ prefix")
            << Tree() << QByteArray("--- a//etc/passwd\n+++ b//etc/passwd\n@@ -1 +1 @@\n-r\n+t\n")
            << "file_not_found"
            << "etc/passwd" << 0 << "does not exist";
        QTest::newRow("rename out of the workspace")
            << Tree{{"x", "1\n"}}
            << QByteArray("diff --git a/x b/x\nrename from x\nrename to ../../x\n")
            << "path_outside_workspace"
            << "../../x" << 0 << "..";
        QTest::newRow("into .git")
            << Tree()
            << QByteArray("--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+evil\n")
            << "path_outside_workspace"
            << ".git/hooks/pre-commit" << 0 << ".git";
        QTest::newRow("binary files differ")
            << Tree{{"img.png", "x"}}
            << QByteArray("diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files "
                          "a/img.png and b/img.png differ\n")
            << "unsupported_binary"
            << "img.png" << 0 << "binary";
        QTest::newRow("GIT binary patch")
            << Tree()
            << QByteArray("diff --git a/b.bin b/b.bin\nnew file mode 100644\nindex "
                          "0000000..1111111\nGIT binary patch\nliteral 3\nKcmZ>\n\nliteral "
                          "0\nHcmV?d00001\n\n")
            << "unsupported_binary"
            << "b.bin" << 0 << "binary";
        QTest::newRow("symlink")
            << Tree()
            << QByteArray("diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ "
                          "b/link\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n")
            << "unsupported_file_type"
            << "link" << 0 << "symlink";
        QTest::newRow("later file fails, earlier one was fine")
            << Tree{{"a.txt", abc}} << modifyA + "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-x\n+y\n"
            << "file_not_found"
            << "b.txt" << 0 << "does not exist";
    }
    void fails()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, diff);
        QFETCH(QString, code);
        QFETCH(QString, file);
        QFETCH(int, hunk);
        QFETCH(QString, message);
        MemoryFileSource base(before);
        StagedTree tree(base);
        const Status s = UnifiedDiffParser::apply(diff, tree);
        QVERIFY2(!s.ok(), "the patch applied but should not have");
        QCOMPARE(s.error().code, code);
        QCOMPARE(s.error().file, file);
        QCOMPARE(s.error().hunk, hunk);
        QVERIFY2(s.error().message.contains(message), qPrintable(s.error().message));
        verifyPiecewiseParse(diff);
    }

    // Plain modifications of a large diff are applied ahead, a batch at a time on several
    // threads: the files, the notes and the first error must be as if one section at a time.
    void manySectionsAsInOrder()
    {
        Tree before;
        Tree after;
        QByteArray diff;
        QStringList notes;
        const auto name = [](int i) { return QString("f%1.txt").arg(i, 3, 10, QChar('0')); };
        const auto section = [](const QString &file, int stated, const QByteArray &from,
                                const QByteArray &to) {
            const QByteArray f = file.toUtf8();
            const QByteArray n = QByteArray::number(stated);
            return "diff --git a/" + f + " b/" + f + "\n--- a/" + f + "\n+++ b/" + f + "\n@@ -" +
                   n + ",1 +" + n + ",1 @@\n-" + from + "\n+" + to + "\n";
        };
        for (int i = 0; i < 600; ++i) {
            QByteArray text;
            for (int l = 1; l <= 20; ++l)
                text += "line " + QByteArray::number(l) + "\n";
            before.insert(name(i), text);
            after.insert(name(i), QByteArray(text).replace("line 5\n", "LINE 5\n"));
            // Every seventh hunk states the wrong line: found at an offset, with a note.
            diff += section(name(i), i % 7 == 0 ? 3 : 5, "line 5", "LINE 5");
            if (i % 7 == 0)
                notes << QString("hunk 1 of %1 applied at offset +2").arg(name(i));
            // A second section for one file, soon after the first, must see what it made.
            if (i == 20)
                diff += section(name(10), 5, "LINE 5", "LINE 5 again");
        }
        after[name(10)].replace("LINE 5\n", "LINE 5 again\n");
        TestSupport::verifyStagedApply(
            before, [&](StagedTree &t) { return UnifiedDiffParser::apply(diff, t); }, after, notes);
        // In pieces of a few hundred lines, on several threads: the same sections.
        verifyPiecewiseParse(diff);
        UnifiedDiffParser::Options pieces;
        pieces.piecewiseFromLines = 1;
        TestSupport::verifyStagedApply(
            before, [&](StagedTree &t) { return UnifiedDiffParser::apply(diff, t, pieces); }, after,
            notes);

        // Two sections that cannot apply: the error is the first one's.
        Tree broken = before;
        broken[name(150)].replace("line 5\n", "changed\n");
        broken[name(470)].replace("line 5\n", "changed\n");
        {
            MemoryFileSource base(broken);
            StagedTree tree(base);
            const Status s = UnifiedDiffParser::apply(diff, tree);
            QVERIFY(!s.ok());
            QCOMPARE(s.error().code, QString("hunk_failed"));
            QCOMPARE(s.error().file, name(150));
        }
        // A failing section that is not a plain modification, before them, comes first.
        const QByteArray missing = "diff --git a/gone.txt b/moved.txt\nsimilarity index 100%\n"
                                   "rename from gone.txt\nrename to moved.txt\n";
        const qsizetype at = diff.indexOf("diff --git a/" + name(140).toUtf8());
        const QByteArray withRename = diff.left(at) + missing + diff.mid(at);
        MemoryFileSource base(broken);
        StagedTree tree(base);
        const Status s = UnifiedDiffParser::apply(withRename, tree);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("file_not_found"));
        QCOMPARE(s.error().file, QString("gone.txt"));
    }

    // The error an assistant gets back has to say where the hunk almost fit and how it differs.
    void hunkFailureIsSpecific()
    {
        QByteArray src;
        for (int i = 1; i <= 60; ++i)
            src += i == 41 ? "    foo(y);\n" : QByteArray("line ") + QByteArray::number(i) + "\n";
        MemoryFileSource base;
        base.setFile("src/a.c", src);
        StagedTree tree(base);
        const QByteArray diff =
            "--- a/src/a.c\n+++ b/src/a.c\n"
            "@@ -2,3 +2,3 @@\n line 2\n-line 3\n+LINE 3\n line 4\n"
            "@@ -39,5 +39,5 @@\n line 39\n line 40\n-    foo(x);\n+    foo(z);\n "
            "line 42\n line 43\n";
        const Status s = UnifiedDiffParser::apply(diff, tree);
        QVERIFY(!s.ok());
        const Error &e = s.error();
        QCOMPARE(e.code, QString("hunk_failed"));
        QCOMPARE(e.message, QString("hunk 2 of src/a.c did not match near line 41"));
        QCOMPARE(e.file, QString("src/a.c"));
        QCOMPARE(e.hunk, 2);
        QCOMPARE(e.line, 41);
        QCOMPARE(e.detail, QString("expected \"    foo(x);\" but found \"    foo(y);\""));
    }

    void modes_data()
    {
        QTest::addColumn<QByteArray>("diff");
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("mode"); // expected mode in the change set, -1: none reported
        QTest::newRow("chmod +x") << QByteArray(
                                         "diff --git a/run.sh b/run.sh\nold mode 100644\nnew "
                                         "mode 100755\n")
                                  << "run.sh" << 0755;
        QTest::newRow("new executable")
            << QByteArray("diff --git a/t.sh b/t.sh\nnew file mode 100755\n--- /dev/null\n+++ "
                          "b/t.sh\n@@ -0,0 +1 @@\n+echo\n")
            << "t.sh" << 0755;
        QTest::newRow("new regular file reports no mode")
            << QByteArray("diff --git a/t.txt b/t.txt\nnew file mode 100644\n--- /dev/null\n+++ "
                          "b/t.txt\n@@ -0,0 +1 @@\n+x\n")
            << "t.txt" << -1;
        QTest::newRow("index line mode is not a chmod")
            << QByteArray("diff --git a/run.sh b/run.sh\nindex 1..2 100755\n--- a/run.sh\n+++ "
                          "b/run.sh\n@@ -1 +1 @@\n-#!/bin/sh\n+#!/bin/bash\n")
            << "run.sh" << -1;
        QTest::newRow("rename and chmod")
            << QByteArray(
                   "diff --git a/run.sh b/go.sh\nold mode 100644\nnew mode 100755\nsimilarity "
                   "index 100%\nrename from run.sh\nrename to go.sh\n")
            << "go.sh" << 0755;
    }
    void modes()
    {
        QFETCH(QByteArray, diff);
        QFETCH(QString, path);
        QFETCH(int, mode);
        MemoryFileSource base;
        base.setFile("run.sh", "#!/bin/sh\n", 0644);
        StagedTree tree(base);
        const Status s = UnifiedDiffParser::apply(diff, tree);
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        const ChangeSet cs = tree.changeSet().value();
        const auto it = std::find_if(cs.changes.begin(), cs.changes.end(),
                                     [&](const FileChange &c) { return c.path == path; });
        QVERIFY(it != cs.changes.end());
        QCOMPARE(it->mode.value_or(-1), mode);
    }

    void parsesHeaders()
    {
        const QByteArray diff =
            "diff --git a/x.c b/y.c\nold mode 100644\nnew mode 100755\nsimilarity index 87%\n"
            "rename from x.c\nrename to y.c\nindex 1111111..2222222\n--- a/x.c\n+++ b/y.c\n"
            "@@ -10,4 +10,5 @@ int main(void)\n a\n-b\n+B\n+C\n c\n d\n"
            "diff --git a/gone b/gone\ndeleted file mode 100644\n--- a/gone\n+++ /dev/null\n"
            "@@ -1 +0,0 @@\n-bye\n\\ No newline at end of file\n";
        const Result<QList<FilePatch>> r = UnifiedDiffParser::parse(diff);
        QVERIFY(r.ok());
        QCOMPARE(r->size(), 2);
        const FilePatch &p = r->at(0);
        QVERIFY(p.isGit && p.isRename && !p.isCopy && !p.isNew && !p.isDelete);
        QCOMPARE(p.oldPath, QString("x.c"));
        QCOMPARE(p.newPath, QString("y.c"));
        QCOMPARE(p.oldMode.value_or(0), 0100644);
        QCOMPARE(p.newMode.value_or(0), 0100755);
        QCOMPARE(p.similarity, 87);
        QCOMPARE(p.hunks.size(), 1);
        const Hunk &h = p.hunks[0];
        QCOMPARE(h.oldStart, 10);
        QCOMPARE(h.oldCount, 4);
        QCOMPARE(h.newCount, 5);
        QCOMPARE(h.section, QByteArray("int main(void)"));
        QCOMPARE(h.oldLines(), (QList<QByteArray>{"a", "b", "c", "d"}));
        QCOMPARE(h.newLines(), (QList<QByteArray>{"a", "B", "C", "c", "d"}));
        QCOMPARE(h.leadingContext(), 1);
        QCOMPARE(h.trailingContext(), 2);
        QCOMPARE(p.added(), 2);
        QCOMPARE(p.removed(), 1);
        const FilePatch &d = r->at(1);
        QVERIFY(d.isDelete);
        QCOMPARE(d.oldPath, QString("gone"));
        QVERIFY(d.newPath.isEmpty());
        QVERIFY(d.hunks[0].oldEndsWithoutNewline());
        QCOMPARE(d.diffLine, 17);
    }

    void stripOption_data()
    {
        QTest::addColumn<int>("strip");
        QTest::addColumn<QByteArray>("diff");
        QTest::addColumn<QString>("path");
        QTest::newRow("auto, a/ b/")
            << -1 << QByteArray("--- a/src/x\n+++ b/src/x\n@@ -1 +1 @@\n-1\n+2\n") << "src/x";
        QTest::newRow("auto, no prefixes")
            << -1 << QByteArray("--- src/x\n+++ src/x\n@@ -1 +1 @@\n-1\n+2\n") << "src/x";
        QTest::newRow("auto, mnemonic prefixes")
            << -1
            << QByteArray(
                   "diff --git i/src/x w/src/x\n--- i/src/x\n+++ w/src/x\n@@ -1 +1 @@\n-1\n+2\n")
            << "src/x";
        QTest::newRow("auto, git --no-prefix")
            << -1
            << QByteArray("diff --git src/x src/x\n--- src/x\n+++ src/x\n@@ -1 +1 @@\n-1\n+2\n")
            << "src/x";
        QTest::newRow("-p0 keeps a/")
            << 0 << QByteArray("--- a/src/x\n+++ b/src/x\n@@ -1 +1 @@\n-1\n+2\n") << "b/src/x";
        QTest::newRow("-p2") << 2 << QByteArray("--- a/src/x\n+++ b/src/x\n@@ -1 +1 @@\n-1\n+2\n")
                             << "x";
        QTest::newRow("-p2, git rename names lose one")
            << 2 << QByteArray("diff --git a/d/x b/d/y\nrename from d/x\nrename to d/y\n") << "y";
    }
    void stripOption()
    {
        QFETCH(int, strip);
        QFETCH(QByteArray, diff);
        QFETCH(QString, path);
        UnifiedDiffParser::Options o;
        o.strip = strip;
        const Result<QList<FilePatch>> r = UnifiedDiffParser::parse(diff, o);
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(r->first().newPath, path);
    }

    void looksLike_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("expected");
        QTest::newRow("git") << QByteArray("diff --git a/x b/x\nold mode 100644\nnew mode 100755\n")
                             << true;
        QTest::newRow("traditional") << QByteArray("--- x\n+++ x\n@@ -1 +1 @@\n-a\n+b\n") << true;
        QTest::newRow("after prose")
            << QByteArray("Here you go:\n\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n") << true;
        QTest::newRow("CRLF") << QByteArray("--- x\r\n+++ x\r\n@@ -1 +1 @@\r\n") << true;
        QTest::newRow("apply_patch format")
            << QByteArray("*** Begin Patch\n*** Update File: x\n@@\n-a\n+b\n*** End Patch\n")
            << false;
        QTest::newRow("search/replace format")
            << QByteArray("x.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n") << false;
        QTest::newRow("markdown rule") << QByteArray("title\n---\ntext\n+++\n") << false;
        QTest::newRow("empty") << QByteArray() << false;
    }
    void looksLike()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, expected);
        QCOMPARE(UnifiedDiffParser::looksLike(text), expected);
    }

    void applyHunksDirectly()
    {
        const Result<QList<FilePatch>> r =
            UnifiedDiffParser::parse("--- x\n+++ x\n@@ -2 +2 @@\n-b\n+B\n");
        QVERIFY(r.ok());
        QStringList notes;
        const Result<QByteArray> out =
            UnifiedDiffParser::applyHunks("a\nb\nc\n", r->first().hunks, "x", &notes);
        QVERIFY(out.ok());
        QCOMPARE(out.value(), QByteArray("a\nB\nc\n"));
        QVERIFY(notes.isEmpty());
    }

    void changeSetCountsLines()
    {
        MemoryFileSource base;
        base.setFile("n.txt", ten);
        StagedTree tree(base);
        QVERIFY(UnifiedDiffParser::apply(
                    "--- a/n.txt\n+++ b/n.txt\n@@ -3,3 +3,4 @@\n l3\n-l4\n+L4\n+L4b\n "
                    "l5\n",
                    tree)
                    .ok());
        const ChangeSet cs = tree.changeSet().value();
        QCOMPARE(cs.changes.size(), 1);
        QCOMPARE(cs.changes[0].action, FileChange::Action::Modified);
        QCOMPARE(cs.changes[0].linesAdded, 2);
        QCOMPARE(cs.changes[0].linesRemoved, 1);
    }
};

QTEST_GUILESS_MAIN(tst_UnifiedDiffParser)
#include "tst_unifieddiffparser.moc"
