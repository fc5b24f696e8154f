// MutationsParser: the `mutations` format, applied in order onto a StagedTree over an in-memory
// tree. Successes are checked as the whole resulting tree (byte-exact) built from changeSet().

#include "mutationsparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using Tree = QMap<QString, QByteArray>;
using Modes = QMap<QString, int>;

namespace {

QJsonArray json(const char *text)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad test JSON: %s: %s", qPrintable(error.errorString()), text);
    return doc.array();
}

const Tree &baseTree()
{
    static const Tree t{
        {"a.txt", "one\ntwo\nthree\n"},
        {"noeol.txt", "first\nlast"},
        {"crlf.txt", "alpha\r\nbeta\r\n"},
        {"dup.txt", "x\nmark\ny\nmark\nz\n"},
        {"prefix.txt", "foobar\nfoo\nfood\n"},
        {"empty.txt", ""},
        {"run.sh", "#!/bin/sh\n"},
        {"src/main.c", "int main()\n{\n    return 0;\n}\n"},
    };
    return t;
}

// The tree the change set describes, applied to base.
Tree applied(const Tree &base, const ChangeSet &cs)
{
    Tree out = base;
    for (const FileChange &c : cs.changes) {
        switch (c.action) {
        case FileChange::Action::Deleted:
            out.remove(c.path);
            break;
        case FileChange::Action::Renamed:
            out.remove(c.oldPath);
            out.insert(c.path, c.contents);
            break;
        default:
            out.insert(c.path, c.contents);
        }
    }
    return out;
}

Tree with(std::initializer_list<std::pair<QString, QByteArray>> edits)
{
    Tree t = baseTree();
    for (const auto &e : edits) {
        if (e.second == "<deleted>")
            t.remove(e.first);
        else
            t.insert(e.first, e.second);
    }
    return t;
}

// moc's lexer cannot skip raw strings holding '#', "//" or unbalanced braces: keep the tables
// out of its sight.
#ifndef Q_MOC_RUN
void successRows()
{
    QTest::addColumn<QJsonArray>("mutations");
    QTest::addColumn<Tree>("expected");
    QTest::addColumn<Modes>("modes"); // expected "mode" of the changed files that have one

    QTest::newRow("upsert creates") << json(R"([{"path":"new.txt","contents":"hello\n"}])")
                                    << with({{"new.txt", "hello\n"}}) << Modes();
    QTest::newRow("upsert replaces") << json(R"([{"path":"a.txt","contents":"replaced"}])")
                                     << with({{"a.txt", "replaced"}}) << Modes();
    QTest::newRow("upsert creates nested dirs")
        << json(R"([{"path":"deep/er/still/x.py","contents":"pass\n"}])")
        << with({{"deep/er/still/x.py", "pass\n"}}) << Modes();
    QTest::newRow("upsert empty contents")
        << json(R"([{"path":"a.txt","contents":""}])") << with({{"a.txt", ""}}) << Modes();
    QTest::newRow("upsert unicode and CRLF")
        << json(R"([{"path":"u.txt","contents":"naïve ✓\r\nzwei\r\n"}])")
        << with({{"u.txt", "naïve ✓\r\nzwei\r\n"}}) << Modes();
    QTest::newRow("upsert with ./ and backslashes")
        << json(R"([{"path":"./src\\util.h","contents":"#pragma once\n"}])")
        << with({{"src/util.h", "#pragma once\n"}}) << Modes();
    QTest::newRow("upsert keeps mode of existing file")
        << json(R"([{"path":"run.sh","contents":"#!/bin/sh\nexit 0\n"}])")
        << with({{"run.sh", "#!/bin/sh\nexit 0\n"}}) << Modes();
    // No whole line equals the anchor: a unique line that starts with it is the anchor.
    QTest::newRow("insertBefore a line prefix")
        << json(R"([{"path":"a.txt","insertBefore":"tw","contents":"x"}])")
        << with({{"a.txt", "one\nx\ntwo\nthree\n"}}) << Modes();
    QTest::newRow("insertAfter a line prefix inserts after the whole line")
        << json(R"([{"path":"a.txt","insertAfter":"tw","contents":"x"}])")
        << with({{"a.txt", "one\ntwo\nx\nthree\n"}}) << Modes();
    QTest::newRow("insertAfter middle")
        << json(R"([{"path":"a.txt","insertAfter":"two","contents":"2.5"}])")
        << with({{"a.txt", "one\ntwo\n2.5\nthree\n"}}) << Modes();
    QTest::newRow("insertAfter first line")
        << json(R"([{"path":"a.txt","insertAfter":"one","contents":"1.5\n"}])")
        << with({{"a.txt", "one\n1.5\ntwo\nthree\n"}}) << Modes();
    QTest::newRow("insertAfter last line")
        << json(R"([{"path":"a.txt","insertAfter":"three","contents":"four"}])")
        << with({{"a.txt", "one\ntwo\nthree\nfour\n"}}) << Modes();
    QTest::newRow("insertAfter last line without newline")
        << json(R"([{"path":"noeol.txt","insertAfter":"last","contents":"after"}])")
        << with({{"noeol.txt", "first\nlast\nafter\n"}}) << Modes();
    QTest::newRow("insertAfter multi-line anchor")
        << json(
               R"([{"path":"src/main.c","insertAfter":"int main()\n{","contents":"    setup();"}])")
        << with({{"src/main.c", "int main()\n{\n    setup();\n    return 0;\n}\n"}}) << Modes();
    QTest::newRow("insertAfter anchor with its newline")
        << json(R"([{"path":"a.txt","insertAfter":"one\n","contents":"x\n"}])")
        << with({{"a.txt", "one\nx\ntwo\nthree\n"}}) << Modes();
    QTest::newRow("insertAfter whole line, not a prefix")
        << json(R"([{"path":"prefix.txt","insertAfter":"foo","contents":"bar"}])")
        << with({{"prefix.txt", "foobar\nfoo\nbar\nfood\n"}}) << Modes();
    QTest::newRow("insertAfter in CRLF file")
        << json(R"([{"path":"crlf.txt","insertAfter":"alpha","contents":"mid"}])")
        << with({{"crlf.txt", "alpha\r\nmid\nbeta\r\n"}}) << Modes();
    QTest::newRow("insertBefore first line")
        << json(R"([{"path":"a.txt","insertBefore":"one","contents":"zero"}])")
        << with({{"a.txt", "zero\none\ntwo\nthree\n"}}) << Modes();
    QTest::newRow("insertBefore middle, multi-line contents")
        << json(R"([{"path":"a.txt","insertBefore":"three","contents":"2a\n2b\n"}])")
        << with({{"a.txt", "one\ntwo\n2a\n2b\nthree\n"}}) << Modes();
    QTest::newRow("insertBefore multi-line anchor")
        << json(
               R"([{"path":"src/main.c","insertBefore":"    return 0;\n}","contents":"    // end"}])")
        << with({{"src/main.c", "int main()\n{\n    // end\n    return 0;\n}\n"}}) << Modes();
    QTest::newRow("insertBefore last line without newline")
        << json(R"([{"path":"noeol.txt","insertBefore":"last","contents":"between"}])")
        << with({{"noeol.txt", "first\nbetween\nlast"}}) << Modes();
    QTest::newRow("insertAt start") << json(R"([{"path":"a.txt","insertAt":1,"contents":"zero"}])")
                                    << with({{"a.txt", "zero\none\ntwo\nthree\n"}}) << Modes();
    QTest::newRow("insertAt middle") << json(R"([{"path":"a.txt","insertAt":3,"contents":"2.5"}])")
                                     << with({{"a.txt", "one\ntwo\n2.5\nthree\n"}}) << Modes();
    QTest::newRow("insertAt end (lines + 1)")
        << json(R"([{"path":"a.txt","insertAt":4,"contents":"four"}])")
        << with({{"a.txt", "one\ntwo\nthree\nfour\n"}}) << Modes();
    QTest::newRow("insertAt end of file without newline")
        << json(R"([{"path":"noeol.txt","insertAt":3,"contents":"third"}])")
        << with({{"noeol.txt", "first\nlast\nthird\n"}}) << Modes();
    QTest::newRow("insertAt last line of file without newline")
        << json(R"([{"path":"noeol.txt","insertAt":2,"contents":"mid"}])")
        << with({{"noeol.txt", "first\nmid\nlast"}}) << Modes();
    QTest::newRow("insertAt 1 in an empty file")
        << json(R"([{"path":"empty.txt","insertAt":1,"contents":"only"}])")
        << with({{"empty.txt", "only\n"}}) << Modes();
    QTest::newRow("delete") << json(R"([{"path":"a.txt","op":"delete"}])")
                            << with({{"a.txt", "<deleted>"}}) << Modes();
    QTest::newRow("delete nested") << json(R"([{"path":"src/main.c","op":"delete"}])")
                                   << with({{"src/main.c", "<deleted>"}}) << Modes();
    QTest::newRow("chmod string") << json(R"([{"path":"run.sh","op":"chmod","mode":"0755"}])")
                                  << with({}) << Modes{{"run.sh", 0755}};
    QTest::newRow("chmod string without leading zero")
        << json(R"([{"path":"run.sh","op":"chmod","mode":"700"}])") << with({})
        << Modes{{"run.sh", 0700}};
    QTest::newRow("chmod number") << json(R"([{"path":"run.sh","op":"chmod","mode":755}])")
                                  << with({}) << Modes{{"run.sh", 0755}};
    QTest::newRow("chmod number 640") << json(R"([{"path":"run.sh","op":"chmod","mode":640}])")
                                      << with({}) << Modes{{"run.sh", 0640}};
    QTest::newRow("create then chmod")
        << json(R"([{"path":"bin/tool","contents":"#!/bin/sh\n"},
                    {"path":"bin/tool","op":"chmod","mode":"0755"}])")
        << with({{"bin/tool", "#!/bin/sh\n"}}) << Modes{{"bin/tool", 0755}};
    QTest::newRow("several on one file, in order")
        << json(R"([{"path":"a.txt","insertAfter":"one","contents":"1.5"},
                    {"path":"a.txt","insertAfter":"1.5","contents":"1.75"},
                    {"path":"a.txt","insertBefore":"one","contents":"0"},
                    {"path":"a.txt","insertAt":7,"contents":"end"}])")
        << with({{"a.txt", "0\none\n1.5\n1.75\ntwo\nthree\nend\n"}}) << Modes();
    QTest::newRow("create then insert into it") << json(R"([{"path":"n.txt","contents":"a\nc\n"},
                    {"path":"n.txt","insertAfter":"a","contents":"b"}])")
                                                << with({{"n.txt", "a\nb\nc\n"}}) << Modes();
    QTest::newRow("delete then recreate")
        << json(R"([{"path":"a.txt","op":"delete"},{"path":"a.txt","contents":"new"}])")
        << with({{"a.txt", "new"}}) << Modes();
    QTest::newRow("create then delete is nothing")
        << json(R"([{"path":"tmp.txt","contents":"x"},{"path":"tmp.txt","op":"delete"}])")
        << with({}) << Modes();
    QTest::newRow("many files") << json(R"([{"path":"a.txt","op":"delete"},
                    {"path":"src/main.c","insertBefore":"}","contents":"    /* done */"},
                    {"path":"docs/README.md","contents":"# Docs\n"},
                    {"path":"run.sh","op":"chmod","mode":"0750"}])")
                                << with({{"a.txt", "<deleted>"},
                                         {"src/main.c",
                                          "int main()\n{\n    return 0;\n    /* done */\n}\n"},
                                         {"docs/README.md", "# Docs\n"}})
                                << Modes{{"run.sh", 0750}};
}

void failureRows()
{
    QTest::addColumn<QJsonArray>("mutations");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("inMessage");
    QTest::addColumn<int>("index"); // the 1-based mutation the error names (Error::hunk)

    QTest::newRow("empty list") << json("[]") << "bad_patch"
                                << "empty" << 0;
    QTest::newRow("entry not an object") << json(R"(["a.txt"])") << "bad_patch"
                                         << "object" << 1;
    QTest::newRow("second entry a number")
        << json(R"([{"path":"n","contents":""},42])") << "bad_patch"
        << "object" << 2;
    QTest::newRow("missing path") << json(R"([{"contents":"x"}])") << "bad_patch"
                                  << "path" << 1;
    QTest::newRow("path not a string") << json(R"([{"path":7,"contents":"x"}])") << "bad_patch"
                                       << "path" << 1;
    QTest::newRow("contents not a string")
        << json(R"([{"path":"a.txt","contents":["x"]}])") << "bad_patch"
        << "contents" << 1;
    QTest::newRow("nothing to do") << json(R"([{"path":"a.txt"}])") << "bad_patch"
                                   << "contents" << 1;
    QTest::newRow("ambiguous line prefix names lines")
        << json(R"([{"path":"dup.txt","insertAfter":"mar","contents":"m"}])") << "ambiguous_match"
        << "2, 4" << 1;
    QTest::newRow("ambiguous anchor names lines")
        << json(R"([{"path":"dup.txt","insertAfter":"mark","contents":"m"}])") << "ambiguous_match"
        << "lines 2, 4" << 1;
    QTest::newRow("missing anchor")
        << json(R"([{"path":"a.txt","insertAfter":"four","contents":"x"}])") << "no_match"
        << "four" << 1;
    QTest::newRow("anchor in the middle of a line")
        << json(R"([{"path":"a.txt","insertAfter":"hree","contents":"x"}])") << "no_match"
        << "hree" << 1;
    QTest::newRow("empty anchor") << json(R"([{"path":"a.txt","insertAfter":"","contents":"x"}])")
                                  << "bad_patch"
                                  << "anchor" << 1;
    QTest::newRow("insert without contents")
        << json(R"([{"path":"a.txt","insertAfter":"one"}])") << "bad_patch"
        << "contents" << 1;
    QTest::newRow("two anchors")
        << json(R"([{"path":"a.txt","insertAfter":"one","insertBefore":"two","contents":"x"}])")
        << "bad_patch"
        << "only one" << 1;
    QTest::newRow("insert into missing file")
        << json(R"([{"path":"nope.txt","insertAfter":"one","contents":"x"}])") << "file_not_found"
        << "does not exist" << 1;
    QTest::newRow("insertAt past the end")
        << json(R"([{"path":"a.txt","insertAt":5,"contents":"x"}])") << "no_match"
        << "3 lines" << 1;
    QTest::newRow("insertAt zero")
        << json(R"([{"path":"a.txt","insertAt":0,"contents":"x"}])") << "bad_patch"
        << "insertAt" << 1;
    QTest::newRow("insertAt negative")
        << json(R"([{"path":"a.txt","insertAt":-2,"contents":"x"}])") << "bad_patch"
        << "insertAt" << 1;
    QTest::newRow("insertAt fraction")
        << json(R"([{"path":"a.txt","insertAt":1.5,"contents":"x"}])") << "bad_patch"
        << "insertAt" << 1;
    QTest::newRow("insertAt string")
        << json(R"([{"path":"a.txt","insertAt":"2","contents":"x"}])") << "bad_patch"
        << "insertAt" << 1;
    QTest::newRow("delete missing file")
        << json(R"([{"path":"nope.txt","op":"delete"}])") << "file_not_found"
        << "nope.txt" << 1;
    QTest::newRow("delete twice")
        << json(R"([{"path":"a.txt","op":"delete"},{"path":"a.txt","op":"delete"}])")
        << "file_not_found"
        << "a.txt" << 2;
    QTest::newRow("chmod missing file")
        << json(R"([{"path":"nope","op":"chmod","mode":"0755"}])") << "file_not_found"
        << "chmod" << 1;
    QTest::newRow("unknown op") << json(R"([{"path":"a.txt","op":"truncate"}])") << "bad_patch"
                                << "truncate" << 1;
    QTest::newRow("bad mode, not octal")
        << json(R"([{"path":"run.sh","op":"chmod","mode":"0789"}])") << "bad_patch"
        << "mode" << 1;
    QTest::newRow("bad mode, words")
        << json(R"([{"path":"run.sh","op":"chmod","mode":"rwxr-xr-x"}])") << "bad_patch"
        << "mode" << 1;
    QTest::newRow("bad mode, too large")
        << json(R"([{"path":"run.sh","op":"chmod","mode":"17777"}])") << "bad_patch"
        << "mode" << 1;
    QTest::newRow("bad mode, number with 9")
        << json(R"([{"path":"run.sh","op":"chmod","mode":493}])") << "bad_patch"
        << "mode" << 1;
    QTest::newRow("bad mode, negative")
        << json(R"([{"path":"run.sh","op":"chmod","mode":-1}])") << "bad_patch"
        << "mode" << 1;
    QTest::newRow("bad mode, missing") << json(R"([{"path":"run.sh","op":"chmod"}])") << "bad_patch"
                                       << "mode" << 1;
    QTest::newRow("hostile path, dotdot")
        << json(R"([{"path":"../escape.txt","contents":"x"}])") << "path_outside_workspace"
        << ".." << 1;
    QTest::newRow("hostile path, absolute")
        << json(R"([{"path":"/etc/cron.d/x","contents":"x"}])") << "path_outside_workspace"
        << "absolute" << 1;
    QTest::newRow("hostile path, home")
        << json(R"([{"path":"~/.ssh/authorized_keys","contents":"x"}])") << "path_outside_workspace"
        << "~" << 1;
    QTest::newRow("hostile path, .git hook after a good one")
        << json(R"([{"path":"ok.txt","contents":"x"},
                    {"path":".git/hooks/pre-commit","contents":"x"}])")
        << "path_outside_workspace"
        << ".git" << 2;
    QTest::newRow("hostile path, NUL")
        << json(R"([{"path":"a.txt\u0000.sh","contents":"x"}])") << "path_invalid"
        << "NUL" << 1;
    QTest::newRow("hostile path, empty")
        << json(R"([{"path":"","contents":"x"}])") << "path_invalid"
        << "empty" << 1;
    QTest::newRow("hostile delete")
        << json(R"([{"path":"../../etc/passwd","op":"delete"}])") << "path_outside_workspace"
        << ".." << 1;
}
#endif

} // namespace

class tst_MutationsParser : public QObject
{
    Q_OBJECT
private slots:
    void success_data() { successRows(); }

    void success()
    {
        QFETCH(QJsonArray, mutations);
        QFETCH(Tree, expected);
        QFETCH(Modes, modes);
        MemoryFileSource base;
        for (auto it = baseTree().constBegin(); it != baseTree().constEnd(); ++it)
            base.setFile(it.key(), it.value());
        StagedTree tree(base);
        const Status s = MutationsParser::apply(mutations, tree);
        QVERIFY2(s.ok(), qPrintable(s.error().code + ": " + s.error().message));
        const ChangeSet cs = tree.changeSet().value();
        QCOMPARE(applied(baseTree(), cs), expected);
        Modes actualModes;
        for (const FileChange &c : cs.changes) {
            if (c.mode)
                actualModes.insert(c.path, *c.mode);
        }
        QCOMPARE(actualModes, modes);
    }

    void failure_data() { failureRows(); }

    // A failure names the mutation and stages nothing a caller could commit by mistake.
    void failure()
    {
        QFETCH(QJsonArray, mutations);
        QFETCH(QString, code);
        QFETCH(QString, inMessage);
        QFETCH(int, index);
        MemoryFileSource base;
        for (auto it = baseTree().constBegin(); it != baseTree().constEnd(); ++it)
            base.setFile(it.key(), it.value());
        StagedTree tree(base);
        const Status s = MutationsParser::apply(mutations, tree);
        QVERIFY2(!s.ok(), "applied, but should have failed");
        QCOMPARE(s.error().code, code);
        QVERIFY2(s.error().message.contains(inMessage), qPrintable(s.error().message));
        QCOMPARE(s.error().hunk, index);
        if (index > 0)
            QVERIFY2(s.error().message.contains(QString("mutation %1").arg(index)) ||
                         code.startsWith("path_"),
                     qPrintable(s.error().message));
    }

    // Line counts reported for the confirmation log.
    void lineCounts()
    {
        MemoryFileSource base;
        base.setFile("a.txt", "one\ntwo\nthree\n");
        StagedTree tree(base);
        QVERIFY(
            MutationsParser::apply(json(R"([{"path":"a.txt","insertAfter":"one","contents":"x\ny"},
                             {"path":"b.txt","contents":"1\n2\n3\n"}])"),
                                   tree)
                .ok());
        const ChangeSet cs = tree.changeSet().value();
        QCOMPARE(cs.changes.size(), 2);
        QCOMPARE(cs.changes[0].linesAdded, 2);
        QCOMPARE(cs.changes[0].linesRemoved, 0);
        QCOMPARE(cs.changes[1].action, FileChange::Action::Added);
        QCOMPARE(cs.changes[1].linesAdded, 3);
        QCOMPARE(cs.changes[1].linesRemoved, 0);
    }
};

QTEST_GUILESS_MAIN(tst_MutationsParser)
#include "tst_mutationsparser.moc"
