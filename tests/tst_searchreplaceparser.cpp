// SearchReplaceParser: aider-style SEARCH/REPLACE blocks applied onto an in-memory tree, with the
// damage assistants do to them; every failure with its code, block number and near miss, and a
// workspace left byte-identical; then end to end through PatchExecutor on a real workspace.

#include "patchexecutor.h"
#include "searchreplaceparser.h"
#include "testsupport.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <sys/stat.h>

using Tree = QMap<QString, QByteArray>;
Q_DECLARE_METATYPE(Tree)

namespace {

QByteArray show(const Tree &t)
{
    QByteArray out;
    for (auto it = t.begin(); it != t.end(); ++it)
        out += "[" + it.key().toUtf8() + "] " + it.value().toPercentEncoding(" \n") + "\n";
    return out;
}

// One block; path "" leaves the path line out (the previous block's file continues).
QByteArray block(const QByteArray &path, const QByteArray &search, const QByteArray &replace)
{
    const QByteArray head = path.isEmpty() ? QByteArray() : path + "\n";
    return head + "<<<<<<< SEARCH\n" + search + "=======\n" + replace + ">>>>>>> REPLACE\n";
}

QByteArray envelopeJson(const QByteArray &patch, const QString &targetFile = QString(),
                        bool explicitFormat = true)
{
    QJsonObject o{{"id", "sr-test"}, {"patch", QString::fromUtf8(patch)}};
    if (explicitFormat)
        o.insert("format", "search_replace");
    if (!targetFile.isEmpty())
        o.insert("target_file", targetFile);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// A workspace on disk holding a tree, beside a directory a patch must never reach.
struct DiskWorkspace
{
    QTemporaryDir tmp;
    QString base = QFileInfo(tmp.path()).canonicalFilePath();
    std::unique_ptr<Workspace> ws;

    explicit DiskWorkspace(const Tree &files)
    {
        TestSupport::writeTree(base + "/ws", files);
        TestSupport::writeTree(base + "/outside", {{"victim.txt", "do not touch\n"}});
        WorkspaceOptions o;
        o.txnDir = base + "/txn";
        ws = std::make_unique<Workspace>(base + "/ws", o);
    }
    // Both directories through lstat: "ws/a.txt" -> "0644:" + contents, "ws/src/" -> "<dir>".
    Tree files() const
    {
        Tree t;
        for (const QString dir : {"ws", "outside"}) {
            const Tree part = TestSupport::snapshot(base + "/" + dir);
            for (auto it = part.begin(); it != part.end(); ++it)
                t.insert(dir + "/" + it.key(), it.value());
        }
        return t;
    }
};

const QByteArray abc = "alpha\nbeta\ngamma\n";

// Sixty lines, line 41 being "    foo(y);": the near miss the brief's example describes.
QByteArray sixty()
{
    QByteArray src;
    for (int i = 1; i <= 60; ++i)
        src += i == 41 ? QByteArray("    foo(y);\n") : "line " + QByteArray::number(i) + "\n";
    return src;
}

const QByteArray greet = "def greet(name):\n    print(\"hello\", name)\n    return name\n";

// The tables live outside moc's sight: its lexer trips over '#' and braces in strings.
#ifndef Q_MOC_RUN
void appliedRows()
{
    QTest::addColumn<Tree>("before");
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<Tree>("after");
    QTest::addColumn<QStringList>("notes"); // substrings, one per expected note, in order

    const Tree a{{"a.txt", abc}};
    // Plain edits.
    QTest::newRow("one block") << a << block("a.txt", "beta\n", "BETA\n")
                               << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
    QTest::newRow("first line") << a << block("a.txt", "alpha\n", "ALPHA\n")
                                << Tree{{"a.txt", "ALPHA\nbeta\ngamma\n"}} << QStringList();
    QTest::newRow("last line") << a << block("a.txt", "gamma\n", "GAMMA\n")
                               << Tree{{"a.txt", "alpha\nbeta\nGAMMA\n"}} << QStringList();
    QTest::newRow("empty REPLACE deletes lines")
        << a << block("a.txt", "alpha\nbeta\n", "") << Tree{{"a.txt", "gamma\n"}} << QStringList();
    QTest::newRow("longer REPLACE inserts lines")
        << a << block("a.txt", "beta\n", "beta\nbeta2\nbeta3\n")
        << Tree{{"a.txt", "alpha\nbeta\nbeta2\nbeta3\ngamma\n"}} << QStringList();
    QTest::newRow("REPLACE equal to SEARCH changes nothing")
        << a << block("a.txt", "beta\n", "beta\n") << a << QStringList();
    QTest::newRow("a line of ======= inside REPLACE is text")
        << Tree{{"doc.rst", "Title\nbody\n"}} << block("doc.rst", "Title\n", "Title\n=======\n")
        << Tree{{"doc.rst", "Title\n=======\nbody\n"}} << QStringList();

    // Several blocks and files.
    QTest::newRow("second block sees the first one's result")
        << a << block("a.txt", "beta\n", "BETA\n") + block("a.txt", "alpha\nBETA\n", "alpha\nB!\n")
        << Tree{{"a.txt", "alpha\nB!\ngamma\n"}} << QStringList();
    QTest::newRow("block without a path continues the file")
        << a << block("a.txt", "alpha\n", "A\n") + "\n" + block("", "gamma\n", "G\n")
        << Tree{{"a.txt", "A\nbeta\nG\n"}} << QStringList();
    QTest::newRow("several files")
        << Tree{{"a.txt", abc}, {"src/b.py", "x = 1\n"}}
        << block("a.txt", "beta\n", "BETA\n") + block("src/b.py", "x = 1\n", "x = 2\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}, {"src/b.py", "x = 2\n"}} << QStringList();
    QTest::newRow("files interleaved; blocks are numbered per file")
        << Tree{{"a.txt", abc}, {"b.txt", "one  \ntwo\n"}}
        << block("a.txt", "alpha\n", "A\n") + block("b.txt", "two\n", "2\n") +
               block("a.txt", "beta\n", "B\n") + block("b.txt", "one\n", "1\n")
        << Tree{{"a.txt", "A\nB\ngamma\n"}, {"b.txt", "1\n2\n"}}
        << QStringList{"block 2 of b.txt matched with trailing whitespace ignored at line 1"};
    QTest::newRow("./ in a path names the same file")
        << Tree{{"src/a.txt", abc}} << block("./src/a.txt", "beta\n", "BETA\n")
        << Tree{{"src/a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();

    // An empty SEARCH section creates or appends.
    QTest::newRow("empty SEARCH creates a file")
        << Tree() << block("new.py", "", "import os\nprint(os)\n")
        << Tree{{"new.py", "import os\nprint(os)\n"}} << QStringList();
    QTest::newRow("empty SEARCH creates a file in new directories")
        << Tree() << block("src/pkg/__init__.py", "", "VERSION = 1\n")
        << Tree{{"src/pkg/__init__.py", "VERSION = 1\n"}} << QStringList();
    QTest::newRow("empty SEARCH and REPLACE create an empty file")
        << Tree() << block("empty.txt", "", "") << Tree{{"empty.txt", ""}} << QStringList();
    QTest::newRow("create, then edit it in the same patch")
        << Tree() << block("n.py", "", "x = 1\ny = 2\n") + block("n.py", "y = 2\n", "y = 3\n")
        << Tree{{"n.py", "x = 1\ny = 3\n"}} << QStringList();
    QTest::newRow("empty SEARCH appends")
        << a << block("a.txt", "", "delta\n") << Tree{{"a.txt", abc + "delta\n"}} << QStringList();
    QTest::newRow("append after a last line without newline")
        << Tree{{"a.txt", "alpha\nbeta"}} << block("a.txt", "", "delta\n")
        << Tree{{"a.txt", "alpha\nbeta\ndelta\n"}} << QStringList();
    QTest::newRow("append to a CRLF file")
        << Tree{{"w.txt", "one\r\ntwo\r\n"}} << block("w.txt", "", "three\nfour\n")
        << Tree{{"w.txt", "one\r\ntwo\r\nthree\r\nfour\r\n"}} << QStringList();
    QTest::newRow("a SEARCH of blank lines counts as empty")
        << a << block("a.txt", "\n  \n", "delta\n") << Tree{{"a.txt", abc + "delta\n"}}
        << QStringList();

    // What assistants wrap around blocks.
    QTest::newRow("path before a code fence")
        << a
        << QByteArray("Here is the change:\n\na.txt\n```text\n<<<<<<< SEARCH\nbeta\n=======\n"
                      "BETA\n>>>>>>> REPLACE\n```\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
    QTest::newRow("path inside a code fence")
        << a
        << QByteArray("```\na.txt\n<<<<<<< SEARCH\nbeta\n=======\nBETA\n>>>>>>> REPLACE\n```\n"
                      "~~~\n<<<<<<< SEARCH\ngamma\n=======\nGAMMA\n>>>>>>> REPLACE\n~~~\n")
        << Tree{{"a.txt", "alpha\nBETA\nGAMMA\n"}} << QStringList();
    QTest::newRow("path as a heading in backticks with a colon")
        << a << block("### `a.txt`:", "beta\n", "BETA\n") << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}}
        << QStringList();
    QTest::newRow("path in bold") << a << block("**a.txt**", "beta\n", "BETA\n")
                                  << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
    QTest::newRow("path with a space, in backticks")
        << Tree{{"my file.txt", "x\n"}} << block("  `my file.txt`", "x\n", "y\n")
        << Tree{{"my file.txt", "y\n"}} << QStringList();
    QTest::newRow("prose between blocks is ignored")
        << a
        << block("a.txt", "alpha\n", "A\n") + "\nNow the last line, which needs care.\n\n" +
               block("", "gamma\n", "G\n")
        << Tree{{"a.txt", "A\nbeta\nG\n"}} << QStringList();
    QTest::newRow("prose between the path and the block is ignored")
        << a << QByteArray("a.txt\nThis renames beta, as asked.\n") + block("", "beta\n", "B\n")
        << Tree{{"a.txt", "alpha\nB\ngamma\n"}} << QStringList();
    QTest::newRow("a markdown rule of ======= in prose is no marker")
        << a << QByteArray("Changes\n=======\n\n") + block("a.txt", "beta\n", "BETA\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
    QTest::newRow("markers of 5 and 9 characters")
        << a << QByteArray("a.txt\n<<<<< SEARCH\nbeta\n=========\nBETA\n>>>>>>>>> REPLACE\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
    QTest::newRow("markers with trailing whitespace, text after REPLACE")
        << a
        << QByteArray("a.txt\n<<<<<<< SEARCH  \nbeta\n=======\t\nBETA\n>>>>>>> REPLACE (a.txt)\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
    QTest::newRow("patch without its final newline")
        << a << QByteArray("a.txt\n<<<<<<< SEARCH\nbeta\n=======\nBETA\n>>>>>>> REPLACE")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();

    // Line endings.
    QTest::newRow("CRLF patch, LF file: stays LF")
        << a
        << QByteArray("a.txt\r\n<<<<<<< SEARCH\r\nbeta\r\n=======\r\nBETA\r\n>>>>>>> REPLACE\r\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}} << QStringList();
    QTest::newRow("CRLF file: stays CRLF")
        << Tree{{"w.txt", "one\r\ntwo\r\nthree\r\n"}} << block("w.txt", "two\n", "TWO\n2b\n")
        << Tree{{"w.txt", "one\r\nTWO\r\n2b\r\nthree\r\n"}} << QStringList();
    QTest::newRow("mixed endings: kept lines keep theirs, new ones take the dominant one")
        << Tree{{"m.txt", "a\r\nb\nc\r\n"}} << block("m.txt", "b\nc\n", "b\nC\n")
        << Tree{{"m.txt", "a\r\nb\nC\r\n"}} << QStringList();
    QTest::newRow("no final newline: an edit elsewhere keeps none")
        << Tree{{"a.txt", "alpha\nbeta\ngamma"}} << block("a.txt", "alpha\n", "ALPHA\n")
        << Tree{{"a.txt", "ALPHA\nbeta\ngamma"}} << QStringList();
    QTest::newRow("no final newline: an edit at the end keeps none")
        << Tree{{"a.txt", "alpha\nbeta\ngamma"}} << block("a.txt", "gamma\n", "GAMMA\ndelta\n")
        << Tree{{"a.txt", "alpha\nbeta\nGAMMA\ndelta"}} << QStringList();
    QTest::newRow("no final newline: deleting the last line keeps none")
        << Tree{{"a.txt", "alpha\nbeta\ngamma"}} << block("a.txt", "gamma\n", "")
        << Tree{{"a.txt", "alpha\nbeta"}} << QStringList();
    QTest::newRow("no final newline: lines added after a kept last line")
        << Tree{{"a.txt", "alpha\nbeta"}} << block("a.txt", "beta\n", "beta\ngamma\n")
        << Tree{{"a.txt", "alpha\nbeta\ngamma"}} << QStringList();

    // Indentation and whitespace damage.
    QTest::newRow("SEARCH indented 4 spaces less than the file")
        << Tree{{"a.py", "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n"
                         "        return 2\n"}}
        << block("a.py", "def g(self):\n    return 2\n",
                 "def g(self):\n    if self:\n        return 3\n    return 2\n")
        << Tree{{"a.py", "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n"
                         "        if self:\n            return 3\n        return 2\n"}}
        << QStringList{"block 1 of a.py matched with indentation adjusted by +4 spaces at line 5"};
    QTest::newRow("SEARCH indented 4 spaces more than the file")
        << Tree{{"a.py", "def f():\n    return 1\n"}}
        << block("a.py", "    def f():\n        return 1\n", "    def f():\n        return 2\n")
        << Tree{{"a.py", "def f():\n    return 2\n"}}
        << QStringList{"block 1 of a.py matched with indentation adjusted by -4 spaces at line 1"};
    QTest::newRow("tabs: SEARCH one tab less than the file")
        << Tree{{"m.go", "func f() {\n\tif x {\n\t\treturn 1\n\t}\n}\n"}}
        << block("m.go", "if x {\n\treturn 1\n}\n", "if x {\n\treturn 2\n}\n")
        << Tree{{"m.go", "func f() {\n\tif x {\n\t\treturn 2\n\t}\n}\n"}}
        << QStringList{"block 1 of m.go matched with indentation adjusted by +1 tab at line 2"};
    QTest::newRow("tab/space drift: file tabs, SEARCH spaces")
        << Tree{{"f.c", "int f()\n{\n\tint x = 1;\n\treturn x;\n}\n"}}
        << block("f.c", "    int x = 1;\n    return x;\n", "    int x = 2;\n    return x;\n")
        << Tree{{"f.c", "int f()\n{\n\tint x = 2;\n\treturn x;\n}\n"}}
        << QStringList{"block 1 of f.c matched with tabs and spaces converted (tab width 4) at "
                       "line 3"};
    QTest::newRow("tab/space drift: file spaces, SEARCH tabs")
        << Tree{{"g.py", "if a:\n    if b:\n        go()\n"}}
        << block("g.py", "\tif b:\n\t\tgo()\n", "\tif b:\n\t\tstop()\n")
        << Tree{{"g.py", "if a:\n    if b:\n        stop()\n"}}
        << QStringList{"tabs and spaces converted (tab width 4) at line 2"};
    QTest::newRow("trailing whitespace in the file")
        << Tree{{"t.py", "a = 1  \nb = 2\n"}} << block("t.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
        << Tree{{"t.py", "a = 1  \nb = 3\n"}}
        << QStringList{"block 1 of t.py matched with trailing whitespace ignored at line 1"};
    QTest::newRow("trailing whitespace in the SEARCH")
        << Tree{{"t.txt", "x\ny\n"}} << block("t.txt", "y \t\n", "Y\n") << Tree{{"t.txt", "x\nY\n"}}
        << QStringList{"trailing whitespace ignored at line 2"};
    QTest::newRow("blank lines' whitespace set aside")
        << Tree{{"b.txt", "a\n    \nb\n"}} << block("b.txt", "a\n\nb\n", "a\nb\n")
        << Tree{{"b.txt", "a\nb\n"}}
        << QStringList{"block 1 of b.txt matched with the whitespace of blank lines ignored"};
    QTest::newRow("an exact match wins over an indented one elsewhere")
        << Tree{{"e.py", "f()\n    f()\n"}} << block("e.py", "f()\n", "g()\n")
        << Tree{{"e.py", "g()\n    f()\n"}} << QStringList();
    QTest::newRow("indentation adjusted in a CRLF file")
        << Tree{{"w.py", "if a:\r\n    x = 1\r\n"}} << block("w.py", "x = 1\n", "x = 2\ny = 3\n")
        << Tree{{"w.py", "if a:\r\n    x = 2\r\n    y = 3\r\n"}}
        << QStringList{"indentation adjusted by +4 spaces at line 2"};
    QTest::newRow("whole block indented in a list item")
        << Tree{{"a.txt", abc}}
        << QByteArray("a.txt\n   <<<<<<< SEARCH\n   beta\n   =======\n   BETA\n"
                      "   >>>>>>> REPLACE\n")
        << Tree{{"a.txt", "alpha\nBETA\ngamma\n"}}
        << QStringList{"indentation adjusted by -3 spaces at line 2"};
}

void failedRows()
{
    QTest::addColumn<Tree>("before");
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("block");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("message"); // substring
    QTest::addColumn<QString>("detail");  // substring; "" checks nothing

    const Tree a{{"a.txt", abc}};
    // Malformed patches: bad_patch with the patch line in the message and in Error::line.
    QTest::newRow("empty patch") << a << QByteArray() << "bad_patch"
                                 << "" << 0 << 0 << "no \"<<<<<<< SEARCH\" block"
                                 << "";
    QTest::newRow("prose only") << a << QByteArray("Change beta to BETA in a.txt.\n") << "bad_patch"
                                << "" << 0 << 0 << "no \"<<<<<<< SEARCH\" block"
                                << "";
    QTest::newRow("no ======= before REPLACE")
        << a << QByteArray("a.txt\n<<<<<<< SEARCH\nbeta\nBETA\n>>>>>>> REPLACE\n") << "bad_patch"
        << "" << 0 << 2 << "line 2: the block has no \"=======\" before line 5"
        << "";
    QTest::newRow("no ======= before the end")
        << a << QByteArray("a.txt\n<<<<<<< SEARCH\nbeta\n") << "bad_patch"
        << "" << 0 << 2 << "line 2: the block has no \"=======\" before the end of the patch"
        << "";
    QTest::newRow("no REPLACE before the end")
        << a << QByteArray("a.txt\n<<<<<<< SEARCH\nbeta\n=======\nBETA\n") << "bad_patch"
        << "" << 0 << 2
        << "line 2: the block has no \">>>>>>> REPLACE\" before the end of the patch"
        << "";
    QTest::newRow("no REPLACE before the next block")
        << a
        << QByteArray("a.txt\n<<<<<<< SEARCH\nbeta\n=======\nBETA\n") +
               block("", "gamma\n", "GAMMA\n")
        << "bad_patch"
        << "" << 0 << 2 << "line 2: the block has no \">>>>>>> REPLACE\" before line 6"
        << "";
    QTest::newRow("REPLACE without SEARCH")
        << a << QByteArray("a.txt\nbeta\n=======\nBETA\n>>>>>>> REPLACE\n") << "bad_patch"
        << "" << 0 << 5 << "line 5: \">>>>>>> REPLACE\" has no \"<<<<<<< SEARCH\" before it"
        << "";
    QTest::newRow("10 '<' is no marker")
        << a << QByteArray("a.txt\n<<<<<<<<<< SEARCH\nbeta\n=======\nBETA\n>>>>>>> REPLACE\n")
        << "bad_patch"
        << "" << 0 << 6 << "line 6: \">>>>>>> REPLACE\" has no \"<<<<<<< SEARCH\""
        << "";
    QTest::newRow("first block names no file") << a << block("", "beta\n", "BETA\n") << "bad_patch"
                                               << "" << 0 << 1 << "line 1: the block names no file"
                                               << "";
    QTest::newRow("only prose before the first block")
        << a << block("Here is the fix for the greeting:", "beta\n", "BETA\n") << "bad_patch"
        << "" << 0 << 2 << "line 2: the block names no file"
        << "";

    // SEARCH text not found: the near miss and how it differs.
    QTest::newRow("SEARCH not found: near miss described")
        << Tree{{"src/a.c", sixty()}} << block("src/a.c", "line 40\n    foo(x);\nline 42\n", "z\n")
        << "search_not_found"
        << "src/a.c" << 1 << 41 << "block 1 of src/a.c did not match; the nearest place is line 41"
        << "line 41: expected \"    foo(x);\" but found \"    foo(y);\"";
    QTest::newRow("curly quotes in the SEARCH")
        << Tree{{"g.py", greet}}
        << block("g.py", "def greet(name):\n    print(\xe2\x80\x9chello\xe2\x80\x9d, name)\n",
                 "def greet(name):\n    print(\"hi\", name)\n")
        << "search_not_found"
        << "g.py" << 1 << 2 << "block 1 of g.py did not match"
        << QString::fromUtf8("line 2: expected \"    print(\xe2\x80\x9chello\xe2\x80\x9d, name)\" "
                             "but found \"    print(\\\"hello\\\", name)\"");
    QTest::newRow("curly quotes in a one-line SEARCH: the likest line")
        << Tree{{"g.py", greet}}
        << block("g.py", "    print(\xe2\x80\x9chello\xe2\x80\x9d, name)\n", "    pass\n")
        << "search_not_found"
        << "g.py" << 1 << 2 << "block 1 of g.py did not match; the nearest place is line 2"
        << QString::fromUtf8("line 2: expected \"    print(\xe2\x80\x9chello\xe2\x80\x9d, name)\" "
                             "but found \"    print(\\\"hello\\\", name)\"");
    QTest::newRow("no line alike at all: the file's start")
        << Tree{{"g.py", greet}} << block("g.py", "zzz\n", "y\n") << "search_not_found"
        << "g.py" << 1 << 1 << "the nearest place is line 1"
        << "line 1: expected \"zzz\" but found \"def greet(name):\"";
    QTest::newRow("second block does not see the text the first replaced")
        << a << block("a.txt", "beta\n", "BETA\n") + block("", "beta\n", "B\n")
        << "search_not_found"
        << "a.txt" << 2 << 2 << "block 2 of a.txt did not match"
        << "line 2: expected \"beta\" but found \"BETA\"";
    QTest::newRow("indentation not uniform")
        << Tree{{"f.py", "def f():\n    a = 1\n    b = 2\n"}}
        << block("f.py", "def f():\n  a = 1\n      b = 2\n", "pass\n") << "search_not_found"
        << "f.py" << 1 << 2 << "nearest place is line 2"
        << "(whitespace differs); 2 of 3 lines differ";
    QTest::newRow("SEARCH longer than the file")
        << Tree{{"o.txt", "one\n"}} << block("o.txt", "one\ntwo\n", "1\n") << "search_not_found"
        << "o.txt" << 1 << 1 << "nearest place is line 1"
        << "expected \"two\" but the file ends at line 1";
    QTest::newRow("edit an empty file")
        << Tree{{"e.txt", ""}} << block("e.txt", "x\n", "y\n") << "search_not_found"
        << "e.txt" << 1 << 0 << "block 1 of e.txt did not match: the file is empty"
        << "expected \"x\" but the file is empty";
    QTest::newRow("block numbers count per file")
        << Tree{{"a.txt", abc}, {"b.txt", "b\n"}}
        << block("a.txt", "alpha\n", "A\n") + block("b.txt", "b\n", "B\n") +
               block("a.txt", "delta\n", "D\n")
        << "search_not_found"
        << "a.txt" << 2 << 2 << "block 2 of a.txt did not match"
        << "line 2: expected \"delta\" but found \"beta\"";
    QTest::newRow("second file fails, first was fine")
        << Tree{{"a.txt", abc}, {"b.txt", "b\n"}}
        << block("a.txt", "alpha\n", "A\n") + block("b.txt", "nothing\n", "x\n")
        << "search_not_found"
        << "b.txt" << 1 << 1 << "block 1 of b.txt did not match"
        << "";

    // Ambiguous SEARCH text: every place named.
    QTest::newRow("SEARCH occurs twice")
        << Tree{{"a.py", "a\nb\nx = 1\nc\nd\ne\nf\ng\nx = 1\nh\n"}}
        << block("a.py", "x = 1\n", "x = 2\n") << "ambiguous_match"
        << "a.py" << 1 << 3
        << "block 1 of a.py matches 2 places (lines 3 and 9); add surrounding lines to the "
           "SEARCH text so it matches one"
        << "";
    QTest::newRow("SEARCH occurs three times")
        << Tree{{"r.txt", "x\nx\nx\n"}} << block("r.txt", "x\n", "y\n") << "ambiguous_match"
        << "r.txt" << 1 << 1 << "matches 3 places (lines 1, 2 and 3)"
        << "";
    QTest::newRow("SEARCH occurs six times: the first five named")
        << Tree{{"r.txt", "}\n}\n}\n}\n}\n}\n"}} << block("r.txt", "}\n", "};\n")
        << "ambiguous_match"
        << "r.txt" << 1 << 1 << "matches 6 places (lines 1, 2, 3, 4, 5, …)"
        << "";
    QTest::newRow("ambiguous once indentation is set aside")
        << Tree{{"i.py", "if a:\n    go()\nif b:\n    go()\n"}}
        << block("i.py", "  go()\n", "stop()\n") << "ambiguous_match"
        << "i.py" << 1 << 2 << "matches 2 places (lines 2 and 4)"
        << "";
    QTest::newRow("second block made ambiguous by the first")
        << Tree{{"x.txt", "x\ny\nz\n"}} << block("x.txt", "y\n", "x\n") + block("", "x\n", "w\n")
        << "ambiguous_match"
        << "x.txt" << 2 << 1 << "block 2 of x.txt matches 2 places (lines 1 and 2)"
        << "";

    // Missing files and the sandbox (normalize()'s errors, unchanged).
    QTest::newRow("edit a missing file")
        << a << block("nope.py", "a\n", "b\n") << "file_not_found"
        << "nope.py" << 1 << 0 << "cannot apply block 1 of nope.py: the file does not exist"
        << "";
    QTest::newRow("../x") << a << block("../x", "", "pwned\n") << "path_outside_workspace"
                          << "../x" << 0 << 0 << "contains '..'"
                          << "";
    QTest::newRow("/etc/passwd") << a << block("/etc/passwd", "root\n", "toor\n")
                                 << "path_outside_workspace"
                                 << "/etc/passwd" << 0 << 0 << "absolute path outside"
                                 << "";
    QTest::newRow("a/../../x") << a << block("a/../../x", "", "pwned\n") << "path_outside_workspace"
                               << "a/../../x" << 0 << 0 << "contains '..'"
                               << "";
    QTest::newRow("decorated ../x")
        << a << block("### `../outside/victim.txt`:", "do\n", "x\n") << "path_outside_workspace"
        << "../outside/victim.txt" << 0 << 0 << "contains '..'"
        << "";
    QTest::newRow("home directory")
        << a << block("~/.bashrc", "", "evil\n") << "path_outside_workspace"
        << "~/.bashrc" << 0 << 0 << "home directory"
        << "";
    QTest::newRow("git hook") << a << block(".git/hooks/pre-commit", "", "evil\n")
                              << "path_outside_workspace"
                              << ".git/hooks/pre-commit" << 0 << 0 << ".git"
                              << "";
    QTest::newRow("NUL in the path")
        << a << block(QByteArray("a\0b", 3), "", "x\n") << "path_invalid"
        << "a\\0b" << 0 << 0 << "NUL"
        << "";
    QTest::newRow("hostile path after a good block")
        << a << block("a.txt", "beta\n", "BETA\n") + block("../../etc/cron.d/x", "", "evil\n")
        << "path_outside_workspace"
        << "../../etc/cron.d/x" << 0 << 0 << "contains '..'"
        << "";
    QTest::newRow("a directory is no file")
        << Tree{{"src/a.txt", abc}} << block("src", "alpha\n", "A\n") << "path_invalid"
        << "src" << 0 << 0 << "not a regular file"
        << "";
}

void endToEndRows()
{
    QTest::addColumn<Tree>("before");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<Tree>("after"); // the workspace afterwards (snapshot form: "0644:" + bytes)
    QTest::addColumn<QStringList>("notes");

    const Tree two{{"a.txt", abc}, {"src/b.py", "def f():\n    return 1\n"}};
    auto disk = [](Tree t) {
        for (auto it = t.begin(); it != t.end(); ++it)
            it.value() = "0644:" + it.value();
        return t;
    };
    QTest::newRow("two files applied, one with indentation adjusted")
        << two
        << envelopeJson(block("a.txt", "beta\n", "BETA\n") +
                        block("src/b.py", "return 1\n", "return 2\n"))
        << "applied"
        << "" << disk({{"a.txt", "alpha\nBETA\ngamma\n"}, {"src/b.py", "def f():\n    return 2\n"}})
        << QStringList{"block 1 of src/b.py matched with indentation adjusted by +4 spaces"};
    QTest::newRow("target_file names the file of a bare block")
        << two << envelopeJson(block("", "gamma\n", "GAMMA\n"), "a.txt") << "applied"
        << "" << disk({{"a.txt", "alpha\nbeta\nGAMMA\n"}, {"src/b.py", two["src/b.py"]}})
        << QStringList();
    QTest::newRow("target_file names the file of a fenced bare block")
        << two << envelopeJson("```python\n" + block("", "gamma\n", "GAMMA\n") + "```\n", "a.txt")
        << "applied"
        << "" << disk({{"a.txt", "alpha\nbeta\nGAMMA\n"}, {"src/b.py", two["src/b.py"]}})
        << QStringList();
    QTest::newRow("a path line wins over target_file")
        << two << envelopeJson(block("src/b.py", "    return 1\n", "    return 3\n"), "a.txt")
        << "applied"
        << "" << disk({{"a.txt", abc}, {"src/b.py", "def f():\n    return 3\n"}}) << QStringList();
    QTest::newRow("format detected from the text")
        << two << envelopeJson(block("new.txt", "", "hello\n"), QString(), false) << "applied"
        << "" << disk({{"a.txt", abc}, {"new.txt", "hello\n"}, {"src/b.py", two["src/b.py"]}})
        << QStringList();
    QTest::newRow("second file's block fails: first file unchanged")
        << two
        << envelopeJson(block("a.txt", "beta\n", "BETA\n") +
                        block("src/b.py", "return 9\n", "return 2\n"))
        << "failed"
        << "search_not_found" << disk(two) << QStringList();
    QTest::newRow("second file's block is ambiguous: first file unchanged")
        << Tree{{"a.txt", abc}, {"c.txt", "x\nx\n"}}
        << envelopeJson(block("a.txt", "beta\n", "BETA\n") + block("c.txt", "x\n", "y\n"))
        << "failed"
        << "ambiguous_match" << disk({{"a.txt", abc}, {"c.txt", "x\nx\n"}}) << QStringList();
    QTest::newRow("a created file is not left behind when a later block fails")
        << two << envelopeJson(block("new.txt", "", "hello\n") + block("a.txt", "delta\n", "D\n"))
        << "failed"
        << "search_not_found" << disk(two) << QStringList();
    QTest::newRow("escape after a good block: rejected, nothing written")
        << two
        << envelopeJson(block("a.txt", "beta\n", "BETA\n") +
                        block("../outside/victim.txt", "do not touch\n", "pwned\n"))
        << "rejected"
        << "path_outside_workspace" << disk(two) << QStringList();
}
#endif

} // namespace

class tst_SearchReplaceParser : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase() { ::umask(022); } // so files on disk read back as 0644

    void applies_data() { appliedRows(); }
    void applies()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, patch);
        QFETCH(Tree, after);
        QFETCH(QStringList, notes);
        QVERIFY(SearchReplaceParser::looksLike(patch));
        TestSupport::verifyStagedApply(
            before, [&](StagedTree &t) { return SearchReplaceParser::apply(patch, t); }, after,
            notes);
    }

    void fails_data() { failedRows(); }
    // Each failure says what and where, and through PatchExecutor leaves the disk byte-identical.
    void fails()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, patch);
        QFETCH(QString, code);
        QFETCH(QString, file);
        QFETCH(int, block);
        QFETCH(int, line);
        QFETCH(QString, message);
        QFETCH(QString, detail);
        MemoryFileSource base(before);
        StagedTree tree(base);
        const Status s = SearchReplaceParser::apply(patch, tree);
        QVERIFY2(!s.ok(), "the patch applied but should not have");
        const Error &e = s.error();
        QCOMPARE(e.code, code);
        QCOMPARE(e.file, file);
        QCOMPARE(e.hunk, block);
        QCOMPARE(e.line, line);
        QVERIFY2(e.message.contains(message), qPrintable(e.message));
        QVERIFY2(e.detail.contains(detail), qPrintable(e.detail));

        DiskWorkspace disk(before);
        const Tree onDisk = disk.files();
        PatchExecutor executor(disk.ws.get(), CommandRunner(CommandPolicy()));
        const Result<Envelope> env = Envelope::parse(envelopeJson(patch));
        QVERIFY2(env.ok(), qPrintable(env.error().message));
        const Outcome o = executor.execute(env.value(), "txn-sr");
        QCOMPARE(o.status, PatchExecutor::isRejection(code) ? QString("rejected") : "failed");
        QCOMPARE(o.error.code, code);
        QCOMPARE(disk.files(), onDisk);
        QCOMPARE(disk.ws->openTransactions(), QStringList());
    }

    void endToEnd_data() { endToEndRows(); }
    // Real workspace: a patch applies whole or not at all.
    void endToEnd()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, json);
        QFETCH(QString, status);
        QFETCH(QString, code);
        QFETCH(Tree, after);
        QFETCH(QStringList, notes);
        DiskWorkspace disk(before);
        PatchExecutor executor(disk.ws.get(), CommandRunner(CommandPolicy()));
        const Result<Envelope> env = Envelope::parse(json);
        QVERIFY2(env.ok(), qPrintable(env.error().message));
        QCOMPARE(env->format, QString("search_replace"));
        const Outcome o = executor.execute(env.value(), "txn-e2e");
        QCOMPARE(o.status, status);
        QCOMPARE(o.error.code, code);
        if (o.applied())
            disk.ws->finalize("txn-e2e");
        Tree expected;
        for (auto it = after.begin(); it != after.end(); ++it)
            expected.insert("ws/" + it.key(), it.value());
        expected.insert("outside/victim.txt", "0644:do not touch\n");
        Tree got = disk.files();
        for (auto it = got.begin(); it != got.end();)
            it = it.key().endsWith('/') ? got.erase(it) : std::next(it); // directories
        QVERIFY2(got == expected, show(got).constData());
        QCOMPARE(o.notes.size(), notes.size());
        for (int i = 0; i < notes.size(); ++i)
            QVERIFY2(o.notes[i].contains(notes[i]), qPrintable(o.notes[i]));
    }

    void parsesBlocks()
    {
        const QByteArray patch = "Sure! Two edits.\n\n**src/app.py**\n```python\n"
                                 "<<<<<<< SEARCH\r\n    a = 1\n\n=======\n>>>>>>> REPLACE\n```\n"
                                 "Then:\n\n```python\n<<<<<<< SEARCH\n=======\nb = 2\n"
                                 ">>>>>>> REPLACE\n```\n";
        const Result<QList<SearchReplaceBlock>> r = SearchReplaceParser::parse(patch);
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(r->size(), 2);
        QCOMPARE(r->at(0).path, QString("src/app.py"));
        QCOMPARE(r->at(0).search, (QList<QByteArray>{"    a = 1", ""}));
        QCOMPARE(r->at(0).replace, QList<QByteArray>());
        QCOMPARE(r->at(0).patchLine, 5);
        // "Then:" is prose (a bare word with a colon), so the second block continues the file.
        QCOMPARE(r->at(1).path, QString("src/app.py"));
        QCOMPARE(r->at(1).search, QList<QByteArray>());
        QCOMPARE(r->at(1).replace, QList<QByteArray>{"b = 2"});
        QCOMPARE(r->at(1).patchLine, 14);
    }

    void looksLike_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("expected");
        QTest::newRow("aider block") << block("x.py", "a\n", "b\n") << true;
        QTest::newRow("5 '<'") << QByteArray("x\n<<<<< SEARCH\n") << true;
        QTest::newRow("9 '<', CRLF") << QByteArray("x\r\n<<<<<<<<< SEARCH\r\n") << true;
        QTest::newRow("indented marker") << QByteArray("  <<<<<<< SEARCH  \n") << true;
        QTest::newRow("10 '<'") << QByteArray("<<<<<<<<<< SEARCH\n") << false;
        QTest::newRow("merge conflict")
            << QByteArray("<<<<<<< HEAD\na\n=======\nb\n>>>>>>> x\n") << false;
        QTest::newRow("unified diff")
            << QByteArray("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n") << false;
        QTest::newRow("empty") << QByteArray() << false;
    }
    void looksLike()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, expected);
        QCOMPARE(SearchReplaceParser::looksLike(text), expected);
    }
};

QTEST_GUILESS_MAIN(tst_SearchReplaceParser)
#include "tst_searchreplaceparser.moc"
