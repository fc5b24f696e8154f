#include "mutationsparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using Tree = QMap<QString, QByteArray>;
Q_DECLARE_METATYPE(Tree)

namespace {
Tree applied(const Tree &before, const StagedTree &tree)
{
    Tree out = before;
    const ChangeSet cs = tree.changeSet().value();
    for (const FileChange &c : cs.changes) {
        if (c.action == FileChange::Action::Renamed)
            out.remove(c.oldPath);
        if (c.action == FileChange::Action::Deleted)
            out.remove(c.path);
        else
            out.insert(c.path, c.contents);
    }
    return out;
}
} // namespace

class tst_MutationsParser : public QObject
{
    Q_OBJECT
private slots:
    void success_data()
    {
        QTest::addColumn<Tree>("before");
        QTest::addColumn<QByteArray>("mutations");
        QTest::addColumn<Tree>("after");
        const Tree base{{"a.txt", "one\ntwo\nthree\n"}, {"src/m.c", "int main() {\n    return 0;\n}\n"}};
        auto with = [&](const QString &k, const QByteArray &v) { Tree t = base; t.insert(k, v); return t; };
        auto without = [&](const QString &k) { Tree t = base; t.remove(k); return t; };
        QTest::newRow("create") << base << QByteArray(R"([{"path":"n.txt","contents":"new\n"}])") << with("n.txt", "new\n");
        QTest::newRow("create nested") << base << QByteArray(R"([{"path":"d/e/f.txt","contents":"x"}])") << with("d/e/f.txt", "x");
        QTest::newRow("replace") << base << QByteArray(R"([{"path":"a.txt","contents":"only\n"}])") << with("a.txt", "only\n");
        QTest::newRow("empty contents") << base << QByteArray(R"([{"path":"a.txt","contents":""}])") << with("a.txt", "");
        QTest::newRow("after first") << base << QByteArray(R"([{"path":"a.txt","insertAfter":"one","contents":"1.5"}])") << with("a.txt", "one\n1.5\ntwo\nthree\n");
        QTest::newRow("after last") << base << QByteArray(R"([{"path":"a.txt","insertAfter":"three","contents":"four"}])") << with("a.txt", "one\ntwo\nthree\nfour\n");
        QTest::newRow("after prefix of line") << base << QByteArray(R"([{"path":"src/m.c","insertAfter":"int main","contents":"    setup();"}])") << with("src/m.c", "int main() {\n    setup();\n    return 0;\n}\n");
        QTest::newRow("after multi-line anchor") << base << QByteArray(R"([{"path":"a.txt","insertAfter":"one\ntwo\n","contents":"x"}])") << with("a.txt", "one\ntwo\nx\nthree\n");
        QTest::newRow("before first") << base << QByteArray(R"([{"path":"a.txt","insertBefore":"one","contents":"zero"}])") << with("a.txt", "zero\none\ntwo\nthree\n");
        QTest::newRow("before middle") << base << QByteArray(R"([{"path":"a.txt","insertBefore":"two","contents":"1.5\n"}])") << with("a.txt", "one\n1.5\ntwo\nthree\n");
        QTest::newRow("before indented") << base << QByteArray(R"([{"path":"src/m.c","insertBefore":"    return 0;","contents":"    log();"}])") << with("src/m.c", "int main() {\n    log();\n    return 0;\n}\n");
        QTest::newRow("insert several lines") << base << QByteArray(R"([{"path":"a.txt","insertBefore":"three","contents":"x\ny"}])") << with("a.txt", "one\ntwo\nx\ny\nthree\n");
        QTest::newRow("at 1") << base << QByteArray(R"([{"path":"a.txt","insertAt":1,"contents":"head"}])") << with("a.txt", "head\none\ntwo\nthree\n");
        QTest::newRow("at 2") << base << QByteArray(R"([{"path":"a.txt","insertAt":2,"contents":"mid"}])") << with("a.txt", "one\nmid\ntwo\nthree\n");
        QTest::newRow("at end") << base << QByteArray(R"([{"path":"a.txt","insertAt":4,"contents":"tail"}])") << with("a.txt", "one\ntwo\nthree\ntail\n");
        const Tree noNl{{"a.txt", "one\ntwo"}};
        QTest::newRow("at end no newline") << noNl << QByteArray(R"([{"path":"a.txt","insertAt":3,"contents":"tail"}])") << Tree{{"a.txt", "one\ntwo\ntail\n"}};
        QTest::newRow("after last no newline") << noNl << QByteArray(R"([{"path":"a.txt","insertAfter":"two","contents":"x"}])") << Tree{{"a.txt", "one\ntwo\nx\n"}};
        QTest::newRow("delete") << base << QByteArray(R"([{"path":"a.txt","op":"delete"}])") << without("a.txt");
        QTest::newRow("chmod string") << base << QByteArray(R"([{"path":"a.txt","op":"chmod","mode":"0755"}])") << base;
        QTest::newRow("chmod number") << base << QByteArray(R"([{"path":"a.txt","op":"chmod","mode":493}])") << base;
        QTest::newRow("create then insert") << base << QByteArray(R"([{"path":"n","contents":"a\n"},{"path":"n","insertAfter":"a","contents":"b"}])") << with("n", "a\nb\n");
        QTest::newRow("two inserts in order") << base << QByteArray(R"([{"path":"a.txt","insertAt":1,"contents":"0"},{"path":"a.txt","insertAfter":"three","contents":"4"}])") << with("a.txt", "0\none\ntwo\nthree\n4\n");
        QTest::newRow("create then delete") << base << QByteArray(R"([{"path":"tmp","contents":"x"},{"path":"tmp","op":"delete"}])") << base;
        QTest::newRow("delete then recreate") << base << QByteArray(R"([{"path":"a.txt","op":"delete"},{"path":"a.txt","contents":"new"}])") << with("a.txt", "new");
        QTest::newRow("several files") << base << QByteArray(R"([{"path":"a.txt","contents":"A"},{"path":"src/m.c","op":"delete"},{"path":"b","contents":"B"}])") << Tree{{"a.txt", "A"}, {"b", "B"}};
        QTest::newRow("dot path") << base << QByteArray(R"([{"path":"./src/./n.c","contents":"c"}])") << with("src/n.c", "c");
        QTest::newRow("unicode contents") << base << QByteArray("[{\"path\":\"u.txt\",\"contents\":\"\xe2\x80\x94 ok\"}]") << with("u.txt", "\xe2\x80\x94 ok");
    }
    void success()
    {
        QFETCH(Tree, before);
        QFETCH(QByteArray, mutations);
        QFETCH(Tree, after);
        MemoryFileSource base;
        for (auto it = before.constBegin(); it != before.constEnd(); ++it)
            base.setFile(it.key(), it.value());
        StagedTree tree(base);
        const Status s = MutationsParser::apply(QJsonDocument::fromJson(mutations).array(), tree);
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QCOMPARE(applied(before, tree), after);
    }
    void chmodSetsMode()
    {
        MemoryFileSource base;
        base.setFile("run.sh", "#!/bin/sh\n", 0644);
        StagedTree tree(base);
        QVERIFY(MutationsParser::apply(QJsonDocument::fromJson(R"([{"path":"run.sh","op":"chmod","mode":"0755"}])").array(), tree).ok());
        QCOMPARE(*tree.changeSet()->changes.at(0).mode, 0755);
    }

    void failure_data()
    {
        QTest::addColumn<QByteArray>("mutations");
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("index");
        QTest::newRow("empty list") << QByteArray("[]") << "bad_patch" << 0;
        QTest::newRow("not object") << QByteArray("[1]") << "bad_patch" << 1;
        QTest::newRow("no path") << QByteArray(R"([{"contents":"x"}])") << "bad_patch" << 1;
        QTest::newRow("path not string") << QByteArray(R"([{"path":3,"contents":"x"}])") << "bad_patch" << 1;
        QTest::newRow("nothing to do") << QByteArray(R"([{"path":"a.txt"}])") << "bad_patch" << 1;
        QTest::newRow("contents not string") << QByteArray(R"([{"path":"a.txt","contents":5}])") << "bad_patch" << 1;
        QTest::newRow("unknown op") << QByteArray(R"([{"path":"a.txt","op":"truncate"}])") << "bad_patch" << 1;
        QTest::newRow("bad mode") << QByteArray(R"([{"path":"a.txt","op":"chmod","mode":"rwx"}])") << "bad_patch" << 1;
        QTest::newRow("mode too big") << QByteArray(R"([{"path":"a.txt","op":"chmod","mode":"77777"}])") << "bad_patch" << 1;
        QTest::newRow("delete missing") << QByteArray(R"([{"path":"nope","op":"delete"}])") << "file_not_found" << 1;
        QTest::newRow("chmod missing") << QByteArray(R"([{"path":"nope","op":"chmod","mode":"0755"}])") << "file_not_found" << 1;
        QTest::newRow("insert missing file") << QByteArray(R"([{"path":"nope","insertAfter":"x","contents":"y"}])") << "file_not_found" << 1;
        QTest::newRow("anchor missing") << QByteArray(R"([{"path":"a.txt","insertAfter":"four","contents":"y"}])") << "no_match" << 1;
        QTest::newRow("anchor mid line") << QByteArray(R"([{"path":"a.txt","insertAfter":"wo","contents":"y"}])") << "no_match" << 1;
        QTest::newRow("anchor twice") << QByteArray(R"([{"path":"a.txt","insertBefore":"dup","contents":"y"}])") << "ambiguous_match" << 1;
        QTest::newRow("empty anchor") << QByteArray(R"([{"path":"a.txt","insertAfter":"","contents":"y"}])") << "bad_patch" << 1;
        QTest::newRow("insertAt zero") << QByteArray(R"([{"path":"a.txt","insertAt":0,"contents":"y"}])") << "bad_patch" << 1;
        QTest::newRow("insertAt fraction") << QByteArray(R"([{"path":"a.txt","insertAt":1.5,"contents":"y"}])") << "bad_patch" << 1;
        QTest::newRow("insertAt past end") << QByteArray(R"([{"path":"a.txt","insertAt":9,"contents":"y"}])") << "no_match" << 1;
        QTest::newRow("second fails") << QByteArray(R"([{"path":"ok","contents":"y"},{"path":"nope","op":"delete"}])") << "file_not_found" << 2;
        QTest::newRow("dotdot") << QByteArray(R"([{"path":"../x","contents":"y"}])") << "path_outside_workspace" << 1;
        QTest::newRow("absolute") << QByteArray(R"([{"path":"/etc/cron.d/x","contents":"y"}])") << "path_outside_workspace" << 1;
        QTest::newRow("git dir") << QByteArray(R"([{"path":".git/hooks/pre-commit","contents":"y"}])") << "path_outside_workspace" << 1;
        QTest::newRow("nul") << QByteArray(R"([{"path":"a\u0000b","contents":"y"}])") << "path_invalid" << 1;
    }
    void failure()
    {
        QFETCH(QByteArray, mutations);
        QFETCH(QString, code);
        QFETCH(int, index);
        MemoryFileSource base;
        base.setFile("a.txt", "one\ntwo\nthree\ndup\ndup\n");
        StagedTree tree(base);
        const Status s = MutationsParser::apply(QJsonDocument::fromJson(mutations).array(), tree);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, code);
        QCOMPARE(s.error().hunk, index);
        QVERIFY(!s.error().message.isEmpty());
    }
    void ambiguityNamesLines()
    {
        MemoryFileSource base;
        base.setFile("a.txt", "x\ndup\ny\ndup\n");
        StagedTree tree(base);
        const Status s = MutationsParser::apply(QJsonDocument::fromJson(R"([{"path":"a.txt","insertAfter":"dup","contents":"z"}])").array(), tree);
        QVERIFY(s.error().message.contains("lines 2, 4"));
    }
};

QTEST_GUILESS_MAIN(tst_MutationsParser)
#include "tst_mutationsparser.moc"
