#include "patternedit.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

namespace {
// An envelope editing "f"; plain C++ strings keep moc away from raw-string delimiters.
QByteArray pe(const char *pattern, const char *replacement)
{
    return QJsonDocument(QJsonObject{{"target_file", "f"},
                                     {"patch", QJsonObject{{"pattern", QString::fromUtf8(pattern)},
                                                           {"replacement",
                                                            QString::fromUtf8(replacement)}}}})
        .toJson(QJsonDocument::Compact);
}
} // namespace

class tst_PatternEdit : public QObject
{
    Q_OBJECT
private slots:
    void apply_data()
    {
        QTest::addColumn<QByteArray>("before");
        QTest::addColumn<QByteArray>("envelope");
        QTest::addColumn<QString>("expected"); // new contents, or "!code"
        QTest::newRow("literal") << QByteArray("hello world\n") << pe("world", "there") << "hello there\n";
        QTest::newRow("literal all") << QByteArray("a a a\n") << pe("a", "b") << "b b b\n";
        QTest::newRow("literal dash") << QByteArray("x-y\n") << pe("x-y", "z") << "z\n";
        QTest::newRow("regex dot") << QByteArray("v1.2\n") << pe("v\\d\\.\\d", "v2.0") << "v2.0\n";
        QTest::newRow("regex dotall") << QByteArray("start\nmid\nend\n") << pe("start.*end", "gone") << "gone\n";
        QTest::newRow("group backslash") << QByteArray("name=alice\n") << pe("name=(\\w+)", "user=\\1") << "user=alice\n";
        QTest::newRow("group python g") << QByteArray("k: v\n") << pe("(\\w+): (\\w+)", "\\g<2>=\\g<1>") << "v=k\n";
        QTest::newRow("anchored start") << QByteArray("a\nb\n") << pe("^a", "A") << "A\nb\n";
        // Like Python's re.sub without MULTILINE: ^ and $ anchor the whole text.
        QTest::newRow("anchors whole text") << QByteArray("a\nb\n") << pe("^b$", "c") << "!no_match";
        QTest::newRow("empty replacement") << QByteArray("keep drop\n") << pe(" drop", "") << "keep\n";
        QTest::newRow("missing replacement") << QByteArray("keep drop\n") << QByteArray(R"({"target_file":"f","patch":{"pattern":" drop"}})") << "keep\n";
        QTest::newRow("unicode") << QByteArray("caf\xc3\xa9\n") << QByteArray("{\"target_file\":\"f\",\"patch\":{\"pattern\":\"caf\xc3\xa9\",\"replacement\":\"tea\"}}") << "tea\n";
        QTest::newRow("crlf kept") << QByteArray("a\r\nb\r\n") << pe("a", "A") << "A\r\nb\r\n";
        QTest::newRow("no match literal") << QByteArray("abc\n") << pe("zzz", "y") << "!no_match";
        QTest::newRow("no match regex") << QByteArray("abc\n") << pe("z+", "y") << "!no_match";
        QTest::newRow("bad regex") << QByteArray("abc\n") << pe("(unclosed", "y") << "!bad_patch";
        QTest::newRow("no target") << QByteArray("abc\n") << QByteArray(R"({"patch":{"pattern":"a","replacement":"y"}})") << "!bad_patch";
        QTest::newRow("empty pattern") << QByteArray("abc\n") << pe("", "y") << "!bad_patch";
        QTest::newRow("replacement not string") << QByteArray("abc\n") << QByteArray(R"({"target_file":"f","patch":{"pattern":"a","replacement":1}})") << "!bad_patch";
        QTest::newRow("missing file") << QByteArray() << QByteArray(R"({"target_file":"nope","patch":{"pattern":"a","replacement":"y"}})") << "!file_not_found";
        QTest::newRow("escape dotdot") << QByteArray("abc\n") << QByteArray(R"({"target_file":"../f","patch":{"pattern":"a","replacement":"y"}})") << "!path_outside_workspace";
        QTest::newRow("escape absolute") << QByteArray("abc\n") << QByteArray(R"({"target_file":"/etc/passwd","patch":{"pattern":"root","replacement":"y"}})") << "!path_outside_workspace";
    }
    void apply()
    {
        QFETCH(QByteArray, before);
        QFETCH(QByteArray, envelope);
        QFETCH(QString, expected);
        MemoryFileSource base;
        if (!before.isNull())
            base.setFile("f", before);
        StagedTree tree(base);
        const Status s = PatternEdit::apply(QJsonDocument::fromJson(envelope).object(), tree);
        if (expected.startsWith('!')) {
            QVERIFY(!s.ok());
            QCOMPARE(s.error().code, expected.mid(1));
            QVERIFY(tree.changeSet()->isEmpty());
        } else {
            QVERIFY2(s.ok(), qPrintable(s.error().message));
            QCOMPARE(tree.read("f")->contents, expected.toUtf8());
            QCOMPARE(tree.changeSet()->changes.size(), 1);
        }
    }
    void regexDetection()
    {
        QVERIFY(!PatternEdit::isRegex("plain words"));
        QVERIFY(PatternEdit::isRegex("a.b"));
        QVERIFY(PatternEdit::isRegex("x+"));
    }
};

QTEST_GUILESS_MAIN(tst_PatternEdit)
#include "tst_patternedit.moc"
