// PatternEdit: the legacy `pattern` format. Literal replace-all, or a regex (dot matches newline,
// \1 and \g<1> in the replacement); zero matches is a failure; bytes around the matches are kept.

#include "patternedit.h"
#include "testsupport.h"
#include "workspace.h"

#include <QFile>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <unistd.h>

namespace {

QJsonObject envelope(const QString &target, const QString &pattern, const QString &replacement)
{
    return QJsonObject{{"id", "p"},
                       {"target_file", target},
                       {"patch", QJsonObject{{"pattern", pattern}, {"replacement", replacement}}}};
}

} // namespace

class tst_PatternEdit : public QObject
{
    Q_OBJECT
private slots:
    void apply_data()
    {
        QTest::addColumn<QByteArray>("before"); // contents of a.txt
        QTest::addColumn<QJsonObject>("env");
        QTest::addColumn<QString>("code");     // empty: applies
        QTest::addColumn<QByteArray>("after"); // contents of a.txt afterwards
        QTest::addColumn<QString>("note");     // the planner's note (success) or message part

        const QString ok;
        QTest::newRow("literal, replace all")
            << QByteArray("foo bar foo\nfoo\n") << envelope("a.txt", "foo", "baz") << ok
            << QByteArray("baz bar baz\nbaz\n") << "a.txt: 3 replacements";
        QTest::newRow("literal, one match")
            << QByteArray("hello world\n") << envelope("a.txt", "world", "there") << ok
            << QByteArray("hello there\n") << "a.txt: 1 replacement";
        QTest::newRow("literal across lines")
            << QByteArray("a\nb\nc\n") << envelope("a.txt", "a\nb", "A\nB") << ok
            << QByteArray("A\nB\nc\n") << "1 replacement";
        QTest::newRow("literal replacement keeps backslashes")
            << QByteArray("path = x\n") << envelope("a.txt", "x", "C:\\1\\g<1>") << ok
            << QByteArray("path = C:\\1\\g<1>\n") << "1 replacement";
        QTest::newRow("literal is case-sensitive")
            << QByteArray("Foo foo FOO\n") << envelope("a.txt", "foo", "bar") << ok
            << QByteArray("Foo bar FOO\n") << "1 replacement";
        QTest::newRow("missing replacement deletes")
            << QByteArray("keep DROP keep\n")
            << QJsonObject{{"target_file", "a.txt"}, {"patch", QJsonObject{{"pattern", " DROP"}}}}
            << ok << QByteArray("keep keep\n") << "1 replacement";
        QTest::newRow("regex, dot matches newline")
            << QByteArray("start\nmiddle\nend\ntail\n") << envelope("a.txt", "start.*end", "X")
            << ok << QByteArray("X\ntail\n") << "1 replacement";
        QTest::newRow("regex, lazy") << QByteArray("<a><b>\n") << envelope("a.txt", "<.*?>", "[]")
                                     << ok << QByteArray("[][]\n") << "2 replacements";
        QTest::newRow("regex, groups \\1")
            << QByteArray("alice@example\nbob@test\n")
            << envelope("a.txt", "(\\w+)@(\\w+)", "\\2 at \\1") << ok
            << QByteArray("example at alice\ntest at bob\n") << "2 replacements";
        QTest::newRow("regex, groups \\g<1>")
            << QByteArray("x = 1;\ny = 2;\n")
            << envelope("a.txt", "(\\w) = (\\d);", "\\g<1> := \\g<2>0;") << ok
            << QByteArray("x := 10;\ny := 20;\n") << "2 replacements";
        QTest::newRow("regex, whole group reference repeated")
            << QByteArray("ab\n") << envelope("a.txt", "(a)(b)", "\\2\\1\\2\\1") << ok
            << QByteArray("baba\n") << "1 replacement";
        QTest::newRow("regex, ^ is the start of the file")
            << QByteArray("foo\nfoo\n") << envelope("a.txt", "^foo", "X") << ok
            << QByteArray("X\nfoo\n") << "1 replacement";
        QTest::newRow("regex, character class")
            << QByteArray("v1.2.3\n") << envelope("a.txt", "[0-9]+", "N") << ok
            << QByteArray("vN.N.N\n") << "3 replacements";
        QTest::newRow("a dot makes it a regex")
            << QByteArray("a.b axb\n") << envelope("a.txt", "a.b", "_") << ok << QByteArray("_ _\n")
            << "2 replacements";
        QTest::newRow("escaped metacharacter")
            << QByteArray("a.b axb\n") << envelope("a.txt", "a\\.b", "_") << ok
            << QByteArray("_ axb\n") << "1 replacement";
        QTest::newRow("unicode, literal")
            << QByteArray("héllo wörld ✓\n") << envelope("a.txt", "wörld", "мир") << ok
            << QByteArray("héllo мир ✓\n") << "1 replacement";
        QTest::newRow("unicode, regex dot is one character")
            << QByteArray("naïve\n") << envelope("a.txt", "na.ve", "naive") << ok
            << QByteArray("naive\n") << "1 replacement";
        QTest::newRow("CRLF preserved, literal")
            << QByteArray("a\r\nfoo\r\nb\r\n") << envelope("a.txt", "foo", "bar") << ok
            << QByteArray("a\r\nbar\r\nb\r\n") << "1 replacement";
        QTest::newRow("CRLF preserved, regex")
            << QByteArray("x = 1\r\ny = 2\r\n") << envelope("a.txt", "(\\d)", "<\\1>") << ok
            << QByteArray("x = <1>\r\ny = <2>\r\n") << "2 replacements";
        QTest::newRow("no trailing newline kept")
            << QByteArray("last line") << envelope("a.txt", "line", "row") << ok
            << QByteArray("last row") << "1 replacement";
        QTest::newRow("bytes that are not UTF-8 kept, literal")
            << QByteArray("caf\xe9 foo \xff\xfe\n") << envelope("a.txt", "foo", "bar") << ok
            << QByteArray("caf\xe9 bar \xff\xfe\n") << "1 replacement";
        QTest::newRow("bytes that are not UTF-8 kept, regex")
            << QByteArray("caf\xe9 v1 \x80\n") << envelope("a.txt", "v(\\d)", "version \\1") << ok
            << QByteArray("caf\xe9 version 1 \x80\n") << "1 replacement";
        QTest::newRow("NUL bytes kept")
            << QByteArray("a\0b foo\0", 8) << envelope("a.txt", "foo", "bar") << ok
            << QByteArray("a\0b bar\0", 8) << "1 replacement";

        // Failures: nothing staged.
        QTest::newRow("no match, literal")
            << QByteArray("abc\n") << envelope("a.txt", "xyz", "q") << "no_match"
            << QByteArray("abc\n") << "matches nothing";
        QTest::newRow("no match, regex") << QByteArray("abc\n") << envelope("a.txt", "x+y", "q")
                                         << "no_match" << QByteArray("abc\n") << "matches nothing";
        QTest::newRow("no match, case differs")
            << QByteArray("ABC\n") << envelope("a.txt", "abc", "q") << "no_match"
            << QByteArray("ABC\n") << "matches nothing";
        QTest::newRow("invalid regex") << QByteArray("abc\n") << envelope("a.txt", "(unclosed", "q")
                                       << "bad_patch" << QByteArray("abc\n") << "offset";
        QTest::newRow("invalid regex, bad class")
            << QByteArray("abc\n") << envelope("a.txt", "[z-a]", "q") << "bad_patch"
            << QByteArray("abc\n") << "regular expression";
        QTest::newRow("missing target_file")
            << QByteArray("abc\n")
            << QJsonObject{{"patch", QJsonObject{{"pattern", "a"}, {"replacement", "b"}}}}
            << "bad_patch" << QByteArray("abc\n") << "target_file";
        QTest::newRow("empty target_file") << QByteArray("abc\n") << envelope("", "a", "b")
                                           << "bad_patch" << QByteArray("abc\n") << "target_file";
        QTest::newRow("target_file not a string")
            << QByteArray("abc\n")
            << QJsonObject{{"target_file", 7}, {"patch", QJsonObject{{"pattern", "a"}}}}
            << "bad_patch" << QByteArray("abc\n") << "target_file";
        QTest::newRow("missing pattern")
            << QByteArray("abc\n")
            << QJsonObject{{"target_file", "a.txt"}, {"patch", QJsonObject{{"replacement", "b"}}}}
            << "bad_patch" << QByteArray("abc\n") << "pattern";
        QTest::newRow("empty pattern") << QByteArray("abc\n") << envelope("a.txt", "", "b")
                                       << "bad_patch" << QByteArray("abc\n") << "pattern";
        QTest::newRow("patch not an object")
            << QByteArray("abc\n") << QJsonObject{{"target_file", "a.txt"}, {"patch", "a"}}
            << "bad_patch" << QByteArray("abc\n") << "pattern";
        QTest::newRow("replacement not a string")
            << QByteArray("abc\n")
            << QJsonObject{{"target_file", "a.txt"},
                           {"patch", QJsonObject{{"pattern", "a"}, {"replacement", 1}}}}
            << "bad_patch" << QByteArray("abc\n") << "replacement";
        QTest::newRow("target outside, dotdot")
            << QByteArray("abc\n") << envelope("../a.txt", "a", "b") << "path_outside_workspace"
            << QByteArray("abc\n") << "..";
        QTest::newRow("target outside, absolute")
            << QByteArray("abc\n") << envelope("/etc/passwd", "root", "b")
            << "path_outside_workspace" << QByteArray("abc\n") << "absolute";
        QTest::newRow("target in .git")
            << QByteArray("abc\n") << envelope(".git/config", "a", "b") << "path_outside_workspace"
            << QByteArray("abc\n") << ".git";
        QTest::newRow("target with NUL")
            << QByteArray("abc\n") << envelope(QString::fromUtf8("a.txt\0", 6), "a", "b")
            << "path_invalid" << QByteArray("abc\n") << "NUL";
        QTest::newRow("missing file") << QByteArray("abc\n") << envelope("nope.txt", "a", "b")
                                      << "file_not_found" << QByteArray("abc\n") << "nope.txt";
    }

    void apply()
    {
        QFETCH(QByteArray, before);
        QFETCH(QJsonObject, env);
        QFETCH(QString, code);
        QFETCH(QByteArray, after);
        QFETCH(QString, note);
        MemoryFileSource base;
        base.setFile("a.txt", before);
        base.setFile("other.txt", "untouched\n");
        StagedTree tree(base);
        const Status s = PatternEdit::apply(env, tree);
        const ChangeSet cs = tree.changeSet().value();
        if (code.isEmpty()) {
            QVERIFY2(s.ok(), qPrintable(s.error().code + ": " + s.error().message));
            QCOMPARE(tree.read("a.txt")->contents, after);
            QCOMPARE(cs.changes.size(), 1);
            QCOMPARE(cs.changes[0].path, QString("a.txt"));
            QCOMPARE(cs.changes[0].action, FileChange::Action::Modified);
            QCOMPARE(cs.changes[0].contents, after);
            QVERIFY2(cs.notes.join('\n').contains(note), qPrintable(cs.notes.join('\n')));
        } else {
            QVERIFY2(!s.ok(), "applied, but should have failed");
            QCOMPARE(s.error().code, code);
            QVERIFY2(s.error().message.contains(note), qPrintable(s.error().message));
            QVERIFY(cs.isEmpty());
            QCOMPARE(tree.read("a.txt")->contents, before);
        }
    }

    void isRegex_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<bool>("regex");
        QTest::newRow("word") << "hello" << false;
        QTest::newRow("spaces and punctuation") << "a, b; c = 'd' - e!" << false;
        QTest::newRow("dot") << "a.b" << true;
        QTest::newRow("star") << "a*" << true;
        QTest::newRow("group") << "(a)" << true;
        QTest::newRow("class") << "[a]" << true;
        QTest::newRow("backslash") << "\\d" << true;
        QTest::newRow("anchor") << "^a" << true;
        QTest::newRow("dollar") << "a$" << true;
        QTest::newRow("pipe") << "a|b" << true;
        QTest::newRow("brace") << "a{2}" << true;
    }
    void isRegex()
    {
        QFETCH(QString, pattern);
        QFETCH(bool, regex);
        QCOMPARE(PatternEdit::isRegex(pattern), regex);
    }

    // On a real workspace: a target reached through a symlink that leads out is refused.
    void targetThroughSymlinkOutside()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        TestSupport::writeTree(tmp.path(), {{"ws/a.txt", "abc\n"}, {"outside/o.txt", "abc\n"}});
        QCOMPARE(
            ::symlink("../outside/o.txt", QFile::encodeName(tmp.path() + "/ws/link").constData()),
            0);
        Workspace ws(tmp.path() + "/ws");
        StagedTree tree(ws);
        const Status s = PatternEdit::apply(envelope("link", "abc", "pwned"), tree);
        QCOMPARE(s.error().code, QString("path_outside_workspace"));
        QVERIFY(tree.changeSet()->isEmpty());
        QCOMPARE(TestSupport::readFile(tmp.path() + "/outside/o.txt"), QByteArray("abc\n"));
    }
};

QTEST_GUILESS_MAIN(tst_PatternEdit)
#include "tst_patternedit.moc"
