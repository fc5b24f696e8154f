// The apply_patch format: every row runs twice, in memory (ApplyPatchParser onto a StagedTree)
// and end to end (PatchExecutor committing to a real workspace), so a failing row also proves
// that nothing on disk changed, not even the files of sections that applied before it.

#include "applypatchparser.h"
#include "patchexecutor.h"
#include "testsupport.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using Tree = QMap<QString, QByteArray>;
Q_DECLARE_METATYPE(Tree)

namespace {

// File by file, so that a failure prints the differing contents.
void compareTrees(const Tree &got, const Tree &expected)
{
    QCOMPARE(got.keys(), expected.keys());
    for (auto it = expected.begin(); it != expected.end(); ++it)
        QCOMPARE(got.value(it.key()), it.value());
}

// A patch around sections: "*** Begin Patch\n" + body + "*** End Patch\n".
QByteArray patch(const QByteArray &body)
{
    return "*** Begin Patch\n" + body + "*** End Patch\n";
}

QByteArray numbered(int count, int odd, const QByteArray &oddText)
{
    QByteArray out;
    for (int i = 1; i <= count; ++i)
        out += i == odd ? oddText + "\n" : "line " + QByteArray::number(i) + "\n";
    return out;
}

const QByteArray abc = "alpha\nbeta\ngamma\n";
const QByteArray ten = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n";
const QByteArray twoFunctions =
    "def a():\n    x = 1\n    return x\n\ndef b():\n    x = 1\n    return x\n";
const QByteArray twoClasses =
    "class A:\n    def run(self):\n        pass\n\nclass B:\n    def run(self):\n        pass\n";

// Runs the patch through PatchExecutor on a fresh workspace holding `before`.
struct DiskRun
{
    Outcome outcome;
    Tree before; // snapshot (modes included) before the run
    Tree after;  // snapshot after it
    Tree files;  // plain contents after it
};

DiskRun runOnDisk(const Tree &before, const QByteArray &text)
{
    DiskRun run;
    QTemporaryDir dir;
    const QString root = QFileInfo(dir.path()).canonicalFilePath() + "/ws";
    QDir().mkpath(root);
    TestSupport::writeTree(root, before);
    run.before = TestSupport::snapshot(root);
    const QJsonObject json{
        {"id", "t"}, {"format", "apply_patch"}, {"patch", QString::fromUtf8(text)}};
    const Result<Envelope> envelope = Envelope::parse(QJsonDocument(json).toJson());
    if (!envelope.ok())
        qFatal("bad test envelope: %s", qPrintable(envelope.error().message));
    Workspace ws(root);
    PatchExecutor executor(&ws, CommandRunner());
    run.outcome = executor.execute(*envelope, "txn");
    if (run.outcome.applied())
        ws.finalize("txn");
    run.after = TestSupport::snapshot(root);
    run.files = TestSupport::readTree(root);
    return run;
}

// The tables live outside moc's sight: its lexer trips over '#' and quotes in strings.
#ifndef Q_MOC_RUN
void successRows()
{
    QTest::addColumn<Tree>("before");
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<Tree>("after");
    QTest::addColumn<QStringList>("notes"); // substrings, one per expected note, in order

    const QStringList none;
    QTest::newRow("update one line")
        << Tree{{"a.txt", abc}}
        << patch("*** Update File: a.txt\n@@\n alpha\n-beta\n+BETA\n gamma\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << none;
    QTest::newRow("no @@ before the first chunk")
        << Tree{{"a.txt", abc}} << patch("*** Update File: a.txt\n alpha\n-beta\n+BETA\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << none;
    QTest::newRow("repeated context, no anchor: the first occurrence")
        << Tree{{"f.py", twoFunctions}}
        << patch("*** Update File: f.py\n@@\n-    return x\n+    return -x\n")
        << Tree{{"f.py",
                 "def a():\n    x = 1\n    return -x\n\ndef b():\n    x = 1\n    return x\n"}}
        << none;
    QTest::newRow("repeated context: an @@ anchor picks the second")
        << Tree{{"f.py", twoFunctions}}
        << patch("*** Update File: f.py\n@@ def b():\n-    return x\n+    return -x\n")
        << Tree{{"f.py",
                 "def a():\n    x = 1\n    return x\n\ndef b():\n    x = 1\n    return -x\n"}}
        << none;
    QTest::newRow("repeated context: the first after the previous chunk wins")
        << Tree{{"f.py", twoFunctions}}
        << patch("*** Update File: f.py\n@@\n def b():\n-    x = 1\n+    x = 2\n"
                 "@@\n-    return x\n+    return -x\n")
        << Tree{{"f.py",
                 "def a():\n    x = 1\n    return x\n\ndef b():\n    x = 2\n    return -x\n"}}
        << none;
    QTest::newRow("two @@ lines narrow the search")
        << Tree{{"c.py", twoClasses}}
        << patch("*** Update File: c.py\n@@ class B:\n@@     def run(self):\n-        pass\n"
                 "+        return 1\n")
        << Tree{{"c.py", "class A:\n    def run(self):\n        pass\n\nclass B:\n    def "
                         "run(self):\n        return 1\n"}}
        << none;
    QTest::newRow("@@ anchor repeated as the first context line")
        << Tree{{"f.py", twoFunctions}}
        << patch("*** Update File: f.py\n@@ def b():\n def b():\n     x = 1\n-    return x\n"
                 "+    return 0\n")
        << Tree{{"f.py",
                 "def a():\n    x = 1\n    return x\n\ndef b():\n    x = 1\n    return 0\n"}}
        << none;
    QTest::newRow("pure insertion after an @@ anchor")
        << Tree{{"f.py", twoFunctions}}
        << patch("*** Update File: f.py\n@@ def b():\n+    \"\"\"B.\"\"\"\n")
        << Tree{{"f.py", "def a():\n    x = 1\n    return x\n\ndef b():\n    \"\"\"B.\"\"\"\n    x "
                         "= 1\n    return x\n"}}
        << none;
    QTest::newRow("pure insertion without an anchor goes to the end")
        << Tree{{"n.txt", ten}} << patch("*** Update File: n.txt\n@@\n+l11\n")
        << Tree{{"n.txt", ten + "l11\n"}} << none;
    QTest::newRow("End of File: the occurrence at the end")
        << Tree{{"e.txt", "end\nx\nend\n"}}
        << patch("*** Update File: e.txt\n@@\n-end\n+END\n*** End of File\n")
        << Tree{{"e.txt", "end\nx\nEND\n"}} << none;
    QTest::newRow("End of File insertion beats the anchor")
        << Tree{{"a.txt", abc}}
        << patch("*** Update File: a.txt\n@@ alpha\n+omega\n*** End of File\n")
        << Tree{{"a.txt", abc + "omega\n"}} << none;
    QTest::newRow("End of File chunk found elsewhere")
        << Tree{{"a.txt", abc}}
        << patch("*** Update File: a.txt\n@@\n-alpha\n+ALPHA\n*** End of File\n")
        << Tree{{"a.txt", "ALPHA\nbeta\ngamma\n"}}
        << QStringList{"chunk 1 of a.txt is marked \"*** End of File\" but matched at line 1"};
    QTest::newRow("several chunks")
        << Tree{{"n.txt", ten}}
        << patch("*** Update File: n.txt\n@@\n l1\n-l2\n+L2\n@@\n l8\n-l9\n+L9\n l10\n")
        << Tree{{"n.txt", "l1\nL2\nl3\nl4\nl5\nl6\nl7\nl8\nL9\nl10\n"}} << none;
    QTest::newRow("trailing whitespace drift")
        << Tree{{"f.c", "int x = 1;   \nint y = 2;\n"}}
        << patch("*** Update File: f.c\n@@\n int x = 1;\n-int y = 2;\n+int y = 3;\n")
        << Tree{{"f.c", "int x = 1;   \nint y = 3;\n"}}
        << QStringList{"chunk 1 of f.c matched ignoring trailing whitespace at line 1"};
    QTest::newRow("tab/space drift in indentation")
        << Tree{{"f.c", "int f()\n{\n\tif (x) {\n\t\treturn 1;\n\t}\n}\n"}}
        << patch("*** Update File: f.c\n@@\n     if (x) {\n-        return 1;\n+        return 2;\n"
                 "     }\n")
        << Tree{{"f.c", "int f()\n{\n\tif (x) {\n        return 2;\n\t}\n}\n"}}
        << QStringList{"chunk 1 of f.c matched ignoring leading and trailing whitespace at line 3"};
    QTest::newRow("curly quotes in the patch, straight in the file")
        << Tree{{"hi.py", "print(\"hello\")\nx = 1\n"}}
        << patch("*** Update File: hi.py\n print(“hello”)\n-x = 1\n+x = 2\n")
        << Tree{{"hi.py", "print(\"hello\")\nx = 2\n"}}
        << QStringList{"chunk 1 of hi.py matched ignoring Unicode dashes, quotes and spaces at "
                       "line 1"};
    QTest::newRow("em dash in the file, hyphen in the patch")
        << Tree{{"n.md", "Range 1—5\nstatus: draft\n"}}
        << patch("*** Update File: n.md\n Range 1-5\n-status: draft\n+status: final\n")
        << Tree{{"n.md", "Range 1—5\nstatus: final\n"}}
        << QStringList{"ignoring Unicode dashes, quotes and spaces"};
    QTest::newRow("curly apostrophe in the file")
        << Tree{{"s.js", "const s = 'it’s';\nlet n = 1;\n"}}
        << patch("*** Update File: s.js\n const s = 'it's';\n-let n = 1;\n+let n = 2;\n")
        << Tree{{"s.js", "const s = 'it’s';\nlet n = 2;\n"}}
        << QStringList{"ignoring Unicode dashes, quotes and spaces"};
    QTest::newRow("non-breaking spaces in the file")
        << Tree{{"c.txt", "a\xc2\xa0= 1\nb = 2\n"}}
        << patch("*** Update File: c.txt\n a = 1\n-b = 2\n+b = 3\n")
        << Tree{{"c.txt", "a\xc2\xa0= 1\nb = 3\n"}}
        << QStringList{"ignoring Unicode dashes, quotes and spaces"};
    QTest::newRow("@@ anchor with trailing whitespace drift")
        << Tree{{"a.py", "def f():  \n    return 1\n"}}
        << patch("*** Update File: a.py\n@@ def f():\n-    return 1\n+    return 2\n")
        << Tree{{"a.py", "def f():  \n    return 2\n"}}
        << QStringList{"the @@ line \"def f():\" of chunk 1 of a.py matched ignoring trailing "
                       "whitespace at line 1"};
    QTest::newRow("missing *** End Patch")
        << Tree{{"a.txt", abc}}
        << QByteArray("*** Begin Patch\n*** Update File: a.txt\n@@\n-beta\n+BETA\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}}
        << QStringList{"the patch has no \"*** End Patch\" line"};
    QTest::newRow("padded markers")
        << Tree{{"a.txt", abc}}
        << QByteArray("  *** Begin Patch  \n *** Update File:   a.txt  \n@@\n-beta\n+BETA\n"
                      "\t*** End Patch \n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << none;
    QTest::newRow("prose and a heredoc around the patch")
        << Tree{{"a.txt", abc}}
        << QByteArray("Here is the fix:\n\napply_patch <<'EOF'\n*** Begin Patch\n*** Update File: "
                      "a.txt\n@@\n-beta\n+BETA\n*** End Patch\nEOF\n\nLet me know.\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << none;
    QTest::newRow("two Begin/End blocks apply in order")
        << Tree{{"a.txt", abc}}
        << QByteArray("First:\n" + patch("*** Update File: a.txt\n-alpha\n+ALPHA\n") + "Then:\n" +
                      patch("*** Update File: a.txt\n-ALPHA\n+A\n"))
        << Tree{{"a.txt", "A\nbeta\ngamma\n"}} << none;
    QTest::newRow("CRLF file stays CRLF")
        << Tree{{"w.txt", "one\r\ntwo\r\nthree\r\n"}}
        << patch("*** Update File: w.txt\n one\n-two\n+TWO\n+2b\n three\n")
        << Tree{{"w.txt", "one\r\nTWO\r\n2b\r\nthree\r\n"}} << none;
    QTest::newRow("CRLF patch, LF file stays LF")
        << Tree{{"a.txt", abc}}
        << QByteArray("*** Begin Patch\r\n*** Update File: a.txt\r\n@@\r\n alpha\r\n-beta\r\n"
                      "+BETA\r\n*** End Patch\r\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << none;
    QTest::newRow("no final newline: kept by an edit elsewhere")
        << Tree{{"a.txt", "alpha\nbeta\ngamma"}}
        << patch("*** Update File: a.txt\n@@\n-alpha\n+ALPHA\n")
        << Tree{{"a.txt", "ALPHA\nbeta\ngamma"}} << none;
    QTest::newRow("no final newline: kept when the last line changes")
        << Tree{{"a.txt", "alpha\nbeta\ngamma"}}
        << patch("*** Update File: a.txt\n@@\n beta\n-gamma\n+GAMMA\n")
        << Tree{{"a.txt", "alpha\nbeta\nGAMMA"}} << none;
    QTest::newRow("no final newline: kept after appended lines")
        << Tree{{"a.txt", "alpha\nbeta\ngamma"}}
        << patch("*** Update File: a.txt\n@@\n+delta\n*** End of File\n")
        << Tree{{"a.txt", "alpha\nbeta\ngamma\ndelta"}} << none;
    QTest::newRow("add file") << Tree{{"a.txt", abc}}
                              << patch("*** Add File: src/new.py\n+import os\n+\n+print(os)\n")
                              << Tree{{"a.txt", abc}, {"src/new.py", "import os\n\nprint(os)\n"}}
                              << none;
    QTest::newRow("add an empty file")
        << Tree() << patch("*** Add File: empty.txt\n") << Tree{{"empty.txt", ""}} << none;
    QTest::newRow("add file: a blank line that lost its '+'")
        << Tree() << patch("*** Add File: n.txt\n+a\n\n+b\n\n") << Tree{{"n.txt", "a\n\nb\n"}}
        << none;
    QTest::newRow("add file: a '+' line that looks like a marker is content")
        << Tree() << patch("*** Add File: doc.txt\n+*** End Patch\n+done\n")
        << Tree{{"doc.txt", "*** End Patch\ndone\n"}} << none;
    QTest::newRow("delete file") << Tree{{"a.txt", abc}, {"keep", "k\n"}}
                                 << patch("*** Delete File: a.txt\n") << Tree{{"keep", "k\n"}}
                                 << none;
    QTest::newRow("move without edits")
        << Tree{{"a.txt", abc}} << patch("*** Update File: a.txt\n*** Move to: docs/a.txt\n")
        << Tree{{"docs/a.txt", abc}} << none;
    QTest::newRow("move with edits")
        << Tree{{"a.txt", abc}}
        << patch("*** Update File: a.txt\n*** Move to: b.txt\n@@\n-alpha\n+ALPHA\n")
        << Tree{{"b.txt", "ALPHA\nbeta\ngamma\n"}} << none;
    QTest::newRow("move to the same path is an update")
        << Tree{{"a.txt", abc}}
        << patch("*** Update File: a.txt\n*** Move to: ./a.txt\n@@\n-gamma\n+GAMMA\n")
        << Tree{{"a.txt", "alpha\nbeta\nGAMMA\n"}} << none;
    QTest::newRow("several files: add, update, delete")
        << Tree{{"a.txt", abc}, {"old.txt", "bye\n"}, {"n.txt", ten}}
        << patch("*** Add File: new.txt\n+hello\n*** Update File: a.txt\n@@\n-alpha\n+ALPHA\n"
                 "*** Delete File: old.txt\n*** Update File: n.txt\n@@\n-l10\n+L10\n")
        << Tree{{"a.txt", "ALPHA\nbeta\ngamma\n"},
                {"new.txt", "hello\n"},
                {"n.txt", "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nL10\n"}}
        << none;
    QTest::newRow("two sections on one file apply in sequence")
        << Tree{{"a.txt", abc}}
        << patch("*** Update File: a.txt\n@@\n-alpha\n+ALPHA\n*** Update File: a.txt\n@@\n"
                 "-ALPHA\n+Alpha!\n")
        << Tree{{"a.txt", "Alpha!\nbeta\ngamma\n"}} << none;
    QTest::newRow("add, then update the new file")
        << Tree() << patch("*** Add File: n.txt\n+one\n+two\n*** Update File: n.txt\n-two\n+2\n")
        << Tree{{"n.txt", "one\n2\n"}} << none;
    QTest::newRow("delete, then add the same path")
        << Tree{{"a.txt", abc}} << patch("*** Delete File: a.txt\n*** Add File: a.txt\n+fresh\n")
        << Tree{{"a.txt", "fresh\n"}} << none;
    QTest::newRow("unified-style line numbers are ignored")
        << Tree{{"a.txt", abc}}
        << patch("*** Update File: a.txt\n@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}}
        << QStringList{"line 3 of the patch: ignored the line numbers of \"@@ -1,3 +1,3 @@\""};
    QTest::newRow("blank line before *** End Patch is not context")
        << Tree{{"a.txt", abc}} << patch("*** Update File: a.txt\n@@\n-gamma\n+GAMMA\n\n")
        << Tree{{"a.txt", "alpha\nbeta\nGAMMA\n"}}
        << QStringList{"chunk 1 of a.txt matched without its 1 trailing blank line(s)"};
    QTest::newRow("empty patch line inside a chunk is an empty context line")
        << Tree{{"p.py", "def f():\n    a = 1\n\n    return a\n"}}
        << patch("*** Update File: p.py\n def f():\n-    a = 1\n+    a = 2\n\n     return a\n")
        << Tree{{"p.py", "def f():\n    a = 2\n\n    return a\n"}} << none;
    QTest::newRow("blank lines between sections")
        << Tree{{"a.txt", abc}}
        << patch("\n*** Update File: a.txt\n\n@@\n-alpha\n+ALPHA\n*** Add File: b.txt\n+b\n\n\n")
        << Tree{{"a.txt", "ALPHA\nbeta\ngamma\n"}, {"b.txt", "b\n"}} << none;
    QTest::newRow("remove every line")
        << Tree{{"a.txt", abc}} << patch("*** Update File: a.txt\n-alpha\n-beta\n-gamma\n")
        << Tree{{"a.txt", ""}} << none;
    QTest::newRow("insert into an empty file")
        << Tree{{"e.txt", ""}} << patch("*** Update File: e.txt\n@@\n+first\n")
        << Tree{{"e.txt", "first\n"}} << none;
    QTest::newRow("path with ./ and doubled slashes")
        << Tree{{"src/x.c", abc}} << patch("*** Update File: ./src//x.c\n-beta\n+BETA\n")
        << Tree{{"src/x.c", "alpha\nBETA\ngamma\n"}} << none;
}

void failureRows()
{
    QTest::addColumn<Tree>("before");
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("hunk");
    QTest::addColumn<int>("line");        // e.line: patch line (bad_patch) or near-miss line
    QTest::addColumn<QString>("message"); // substring

    const Tree a{{"a.txt", abc}};
    QTest::newRow("empty input") << a << QByteArray() << "bad_patch"
                                 << "" << 0 << 0 << "";
    QTest::newRow("prose without a patch")
        << a << QByteArray("Change beta to BETA.\n") << "bad_patch"
        << "" << 0 << 0 << "no \"*** Begin Patch\" line";
    QTest::newRow("a unified diff is not this format")
        << a << QByteArray("--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-alpha\n+ALPHA\n") << "bad_patch"
        << "" << 0 << 0 << "no \"*** Begin Patch\" line";
    QTest::newRow("nothing between Begin and End") << a << patch("") << "bad_patch"
                                                   << "" << 0 << 0 << "the patch changes no file";
    QTest::newRow("cut short right after Begin")
        << a << QByteArray("*** Begin Patch\n") << "bad_patch"
        << "" << 0 << 0 << "the patch changes no file";
    QTest::newRow("unknown file marker")
        << a << patch("*** Modify File: a.txt\n-beta\n+BETA\n") << "bad_patch"
        << "" << 0 << 2
        << "line 2 of the patch: expected \"*** Add File:\", \"*** Update File:\", \"*** "
           "Delete File:\" or \"*** End Patch\" but found \"*** Modify File: a.txt\"";
    QTest::newRow("chunk line without a prefix")
        << a << patch("*** Update File: a.txt\n@@\n alpha\nbeta\n") << "bad_patch"
        << "a.txt" << 0 << 5
        << "line 5 of the patch: expected a \"***\" marker, '@@', or a chunk line but found "
           "\"beta\"";
    QTest::newRow("Add File line without '+'")
        << a << patch("*** Add File: n.txt\n+a\nb\n") << "bad_patch"
        << "n.txt" << 0 << 4 << "line 4 of the patch: expected a '+' line";
    QTest::newRow("Update File without chunks")
        << a << patch("*** Update File: a.txt\n") << "bad_patch"
        << "a.txt" << 0 << 2 << "the Update File section for a.txt has no chunks";
    QTest::newRow("@@ without chunk lines")
        << a << patch("*** Update File: a.txt\n@@ alpha\n") << "bad_patch"
        << "a.txt" << 0 << 3 << "line 3 of the patch: the chunk of a.txt that starts here";
    QTest::newRow("Move to after a chunk")
        << a << patch("*** Update File: a.txt\n@@\n-alpha\n+A\n*** Move to: b.txt\n") << "bad_patch"
        << "a.txt" << 0 << 6 << "must directly follow";
    QTest::newRow("Delete File followed by lines")
        << a << patch("*** Delete File: a.txt\n-alpha\n") << "bad_patch"
        << "a.txt" << 0 << 3 << "a Delete File section has no lines";
    QTest::newRow("Add File without a path") << a << patch("*** Add File:\n+x\n") << "bad_patch"
                                             << "" << 0 << 2 << "names no path";
    QTest::newRow("End of File outside a chunk")
        << a << patch("*** Update File: a.txt\n*** End of File\n") << "bad_patch"
        << "a.txt" << 0 << 3 << "but found \"*** End of File\"";
    QTest::newRow("context not found")
        << a << patch("*** Update File: a.txt\n alpha\n-BETA\n+beta2\n gamma\n")
        << "context_not_found"
        << "a.txt" << 1 << 1
        << "chunk 1 of a.txt did not match: expected context not found near line 1";
    QTest::newRow("second chunk does not match")
        << Tree{{"n.txt", ten}}
        << patch("*** Update File: n.txt\n@@\n-l1\n+L1\n@@\n l5\n-l55\n+L5\n l7\n")
        << "context_not_found"
        << "n.txt" << 2 << 5 << "chunk 2 of n.txt did not match";
    QTest::newRow("context only before the previous chunk")
        << Tree{{"n.txt", ten}} << patch("*** Update File: n.txt\n@@\n-l8\n+L8\n@@\n-l2\n+L2\n")
        << "context_not_found"
        << "n.txt" << 2 << 2 << "chunk 2 of n.txt did not match";
    QTest::newRow("wrong @@ anchor")
        << Tree{{"f.py", twoFunctions}}
        << patch("*** Update File: f.py\n@@ def c():\n-    return x\n+    return 0\n")
        << "context_not_found"
        << "f.py" << 1 << 1
        << "chunk 1 of f.py did not match: the @@ line \"def c():\" was not found at or after "
           "line 1";
    QTest::newRow("@@ anchor with inner whitespace drift")
        << Tree{{"f.py", twoFunctions}}
        << patch("*** Update File: f.py\n@@ def  b():\n-    return x\n+    return 0\n")
        << "context_not_found"
        << "f.py" << 1 << 5 << "the @@ line \"def  b():\" was not found";
    QTest::newRow("@@ anchors in the wrong order")
        << Tree{{"c.py", twoClasses}}
        << patch("*** Update File: c.py\n@@     def run(self):\n@@ class A:\n-        pass\n"
                 "+        return 1\n")
        << "context_not_found"
        << "c.py" << 1 << 1 << "the @@ line \"class A:\" was not found at or after line 3";
    QTest::newRow("inner whitespace drift is not tolerated")
        << Tree{{"f.c", "int x  = 1;\nint y = 2;\n"}}
        << patch("*** Update File: f.c\n int x = 1;\n-int y = 2;\n+int y = 3;\n")
        << "context_not_found"
        << "f.c" << 1 << 1 << "did not match";
    QTest::newRow("End of File chunk that matches nowhere")
        << a << patch("*** Update File: a.txt\n@@\n-omega\n+OMEGA\n*** End of File\n")
        << "context_not_found"
        << "a.txt" << 1 << 1 << "chunk 1 of a.txt did not match";
    QTest::newRow("update a missing file")
        << a << patch("*** Update File: zzz.txt\n-x\n+y\n") << "file_not_found"
        << "zzz.txt" << 0 << 0 << "cannot update zzz.txt: it does not exist";
    QTest::newRow("delete a missing file")
        << a << patch("*** Delete File: zzz.txt\n") << "file_not_found"
        << "zzz.txt" << 0 << 0 << "cannot delete zzz.txt";
    QTest::newRow("add an existing file")
        << a << patch("*** Add File: a.txt\n+new\n") << "file_exists"
        << "a.txt" << 0 << 0 << "cannot add a.txt: it already exists";
    QTest::newRow("add the same file twice")
        << a << patch("*** Add File: n.txt\n+1\n*** Add File: n.txt\n+2\n") << "file_exists"
        << "n.txt" << 0 << 0 << "already exists";
    QTest::newRow("move onto an existing file")
        << Tree{{"a.txt", abc}, {"b.txt", "b\n"}}
        << patch("*** Update File: a.txt\n*** Move to: b.txt\n-alpha\n+ALPHA\n") << "file_exists"
        << "b.txt" << 0 << 0 << "cannot move a.txt to b.txt: b.txt already exists";
    QTest::newRow("dot-dot path") << a << patch("*** Add File: ../x\n+pwned\n")
                                  << "path_outside_workspace"
                                  << "../x" << 0 << 0 << "..";
    QTest::newRow("absolute path")
        << a << patch("*** Update File: /etc/passwd\n-root\n+toor\n") << "path_outside_workspace"
        << "/etc/passwd" << 0 << 0 << "absolute";
    QTest::newRow("into .git") << a << patch("*** Add File: .git/config\n+[core]\n")
                               << "path_outside_workspace"
                               << ".git/config" << 0 << 0 << ".git";
    QTest::newRow("delete through dot-dot")
        << a << patch("*** Delete File: src/../../a.txt\n") << "path_outside_workspace"
        << "src/../../a.txt" << 0 << 0 << "..";
    QTest::newRow("Move to out of the workspace")
        << a << patch("*** Update File: a.txt\n*** Move to: ../../x\n") << "path_outside_workspace"
        << "../../x" << 0 << 0 << "..";
    QTest::newRow("second file fails: the first is not written")
        << Tree{{"a.txt", abc}, {"b.txt", "b\n"}}
        << patch("*** Update File: a.txt\n@@\n-alpha\n+ALPHA\n*** Update File: b.txt\n@@\n-c\n"
                 "+C\n")
        << "context_not_found"
        << "b.txt" << 1 << 1 << "chunk 1 of b.txt did not match";
    QTest::newRow("hostile path after a good section")
        << a << patch("*** Add File: ok.txt\n+ok\n*** Add File: /tmp/gr-apply-pwned\n+x\n")
        << "path_outside_workspace"
        << "/tmp/gr-apply-pwned" << 0 << 0 << "absolute";
}
#endif

} // namespace

class tst_ApplyPatchParser : public QObject
{
    Q_OBJECT
private slots:
    void applies_data() { successRows(); }
    void applies()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, patch);
        QFETCH(Tree, after);
        QFETCH(QStringList, notes);
        QVERIFY(ApplyPatchParser::looksLike(patch));
        const ChangeSet cs = TestSupport::verifyStagedApply(
            before, [&](StagedTree &t) { return ApplyPatchParser::apply(patch, t); }, after, notes);
        if (QTest::currentTestFailed())
            return;

        const DiskRun disk = runOnDisk(before, patch);
        QVERIFY2(disk.outcome.applied(), qPrintable(disk.outcome.error.message));
        compareTrees(disk.files, after);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(disk.outcome.notes, cs.notes);
    }

    void fails_data() { failureRows(); }
    void fails()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, patch);
        QFETCH(QString, code);
        QFETCH(QString, file);
        QFETCH(int, hunk);
        QFETCH(int, line);
        QFETCH(QString, message);
        MemoryFileSource base(before);
        StagedTree tree(base);
        const Status s = ApplyPatchParser::apply(patch, tree);
        QVERIFY2(!s.ok(), "the patch applied but should not have");
        const Error &e = s.error();
        QCOMPARE(e.code, code);
        QCOMPARE(e.file, file);
        QCOMPARE(e.hunk, hunk);
        QCOMPARE(e.line, line);
        QVERIFY2(e.message.contains(message), qPrintable(e.message));
        QVERIFY(!e.message.isEmpty());
        if (code == QLatin1String("context_not_found"))
            QVERIFY2(e.detail.startsWith("line "), qPrintable(e.detail));

        // End to end: the outcome says the same, and the disk is exactly as before.
        const DiskRun disk = runOnDisk(before, patch);
        QCOMPARE(disk.outcome.status,
                 QString(PatchExecutor::isRejection(code) ? "rejected" : "failed"));
        QCOMPARE(disk.outcome.error.code, code);
        QCOMPARE(disk.outcome.error.file, file);
        QCOMPARE(disk.after, disk.before);
        QVERIFY(!QFile::exists("/tmp/gr-apply-pwned"));
    }

    // The error an assistant gets back says where the chunk almost fit and how it differs.
    void contextFailureIsSpecific()
    {
        MemoryFileSource base;
        base.setFile("src/a.c", numbered(60, 41, "    foo(y);"));
        StagedTree tree(base);
        const Status s = ApplyPatchParser::apply(
            patch("*** Update File: src/a.c\n@@\n line 2\n-line 3\n+LINE 3\n"
                  "@@\n line 40\n-    foo(x);\n+    foo(z);\n line 42\n"),
            tree);
        QVERIFY(!s.ok());
        const Error &e = s.error();
        QCOMPARE(e.code, QString("context_not_found"));
        QCOMPARE(e.message,
                 QString("chunk 2 of src/a.c did not match: expected context not found near "
                         "line 40"));
        QCOMPARE(e.file, QString("src/a.c"));
        QCOMPARE(e.hunk, 2);
        QCOMPARE(e.line, 40);
        QCOMPARE(e.detail, QString("line 41: expected \"    foo(x);\" but found \"    foo(y);\""));
    }

    void contextBeforeThePreviousChunkIsExplained()
    {
        MemoryFileSource base;
        base.setFile("n.txt", ten);
        StagedTree tree(base);
        const Status s = ApplyPatchParser::apply(
            patch("*** Update File: n.txt\n@@\n-l8\n+L8\n@@\n l2\n-l3\n+L3\n"), tree);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().line, 2);
        QCOMPARE(s.error().detail,
                 QString("line 2: these lines occur only before line 9, where the search for "
                         "this chunk starts (chunks must follow the file's order)"));
    }

    // Update and Move to keep the file's permission bits, in memory and on disk.
    void keepsMode()
    {
        const QByteArray text =
            patch("*** Update File: run.sh\n*** Move to: bin/run.sh\n@@\n-echo run\n+echo go\n");
        MemoryFileSource base;
        base.setFile("run.sh", "#!/bin/sh\necho run\n", 0755);
        StagedTree tree(base);
        QVERIFY(ApplyPatchParser::apply(text, tree).ok());
        QCOMPARE(tree.read("bin/run.sh")->mode, 0755);
        const ChangeSet cs = tree.changeSet().value();
        QCOMPARE(cs.changes.size(), 1);
        QCOMPARE(cs.changes[0].action, FileChange::Action::Renamed);
        QCOMPARE(cs.changes[0].contents, QByteArray("#!/bin/sh\necho go\n"));

        QTemporaryDir tmp;
        const QString root = QFileInfo(tmp.path()).canonicalFilePath();
        TestSupport::writeTree(root, {{"run.sh", "#!/bin/sh\necho run\n"}});
        QFile::setPermissions(root + "/run.sh", QFile::ReadOwner | QFile::WriteOwner |
                                                    QFile::ExeOwner | QFile::ReadGroup |
                                                    QFile::ExeGroup | QFile::ReadOther |
                                                    QFile::ExeOther);
        Workspace ws(root);
        PatchExecutor executor(&ws, CommandRunner());
        const QJsonObject json{{"id", "m"}, {"patch", QString::fromUtf8(text)}};
        const Outcome o =
            executor.execute(*Envelope::parse(QJsonDocument(json).toJson()), "txn-mode");
        QVERIFY2(o.applied(), qPrintable(o.error.message));
        QCOMPARE(o.format, QString("apply_patch"));
        ws.finalize("txn-mode");
        QCOMPARE(TestSupport::fileMode(root + "/bin/run.sh"), 0755);
        QVERIFY(!QFile::exists(root + "/run.sh"));
    }

    // A commit that fails on disk after planning (a file where a directory must go) rolls back
    // the sections before it.
    void commitFailureLeavesTheDiskAsItWas()
    {
        const DiskRun disk =
            runOnDisk(Tree{{"a.txt", abc}},
                      patch("*** Update File: a.txt\n-alpha\n+ALPHA\n*** Add File: a.txt/child\n"
                            "+x\n"));
        QCOMPARE(disk.outcome.status, QString("failed"));
        QCOMPARE(disk.outcome.error.code, QString("write_failed"));
        QCOMPARE(disk.after, disk.before);
    }

    void parsesStructure()
    {
        const Result<ApplyPatch> r = ApplyPatchParser::parse(
            "intro\n*** Begin Patch\n*** Update File: a.py\n*** Move to: b.py\n@@ class A:\n@@ "
            "\tdef f(self):\n     x = 1\n-    y = 2\n+    y = 3\n\n*** End of File\n"
            "*** Delete File: c.py\n*** Add File: d.py\n+d\n*** End Patch\ntrailer\n");
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(r->files.size(), 3);
        QVERIFY(r->notes.isEmpty());
        const ApplyPatchFile &u = r->files[0];
        QCOMPARE(u.action, ApplyPatchFile::Action::Update);
        QCOMPARE(u.path, QString("a.py"));
        QCOMPARE(u.moveTo, QString("b.py"));
        QCOMPARE(u.patchLine, 3);
        QCOMPARE(u.chunks.size(), 1);
        const ApplyPatchChunk &c = u.chunks[0];
        QCOMPARE(c.anchors, (QList<QByteArray>{"class A:", "\tdef f(self):"}));
        QCOMPARE(c.oldLines(), (QList<QByteArray>{"    x = 1", "    y = 2", ""}));
        QCOMPARE(c.lines.size(), 4);
        QVERIFY(c.lines[3].bare);
        QCOMPARE(c.trailingBareLines(), 1);
        QVERIFY(c.endOfFile);
        QCOMPARE(c.patchLine, 5);
        QCOMPARE(r->files[1].action, ApplyPatchFile::Action::Delete);
        QCOMPARE(r->files[2].action, ApplyPatchFile::Action::Add);
        QCOMPARE(r->files[2].contents, QByteArray("d\n"));
    }

    void looksLike_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("expected");
        QTest::newRow("plain") << patch("*** Add File: x\n+x\n") << true;
        QTest::newRow("after prose") << QByteArray("Sure:\n*** Begin Patch\n") << true;
        QTest::newRow("padded, CRLF") << QByteArray("  *** Begin Patch \r\n") << true;
        QTest::newRow("unified diff")
            << QByteArray("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n") << false;
        QTest::newRow("mentioned inside a line")
            << QByteArray("write *** Begin Patch first\n") << false;
        QTest::newRow("empty") << QByteArray() << false;
    }
    void looksLike()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, expected);
        QCOMPARE(ApplyPatchParser::looksLike(text), expected);
    }
};

QTEST_GUILESS_MAIN(tst_ApplyPatchParser)
#include "tst_applypatchparser.moc"
