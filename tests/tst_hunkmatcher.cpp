#include "hunkmatcher.h"

#include <QTest>

namespace {
// "a|b|c" -> {"a","b","c"}; "" -> {} (an empty file or hunk).
QList<QByteArray> lines(const QByteArray &text)
{
    return text.isEmpty() ? QList<QByteArray>() : text.split('|');
}
} // namespace

class tst_HunkMatcher : public QObject
{
    Q_OBJECT
private slots:
    void find_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QByteArray>("hunk");
        QTest::addColumn<int>("expected");
        QTest::addColumn<QString>("flags"); // "start", "end", "exact-only", "max1"
        QTest::addColumn<int>("position");  // -1: not found
        QTest::addColumn<int>("offset");
        QTest::addColumn<bool>("whitespace");

        const QByteArray abcde = "a|b|c|d|e";
        QTest::newRow("at the stated line")
            << abcde << QByteArray("b|c") << 1 << "" << 1 << 0 << false;
        QTest::newRow("offset forwards")
            << abcde << QByteArray("c|d") << 0 << "" << 2 << 2 << false;
        QTest::newRow("offset backwards")
            << abcde << QByteArray("b|c") << 3 << "" << 1 << -2 << false;
        QTest::newRow("stated line past the end")
            << abcde << QByteArray("d|e") << 40 << "" << 3 << -37 << false;
        QTest::newRow("negative stated line")
            << abcde << QByteArray("a") << -5 << "" << 0 << 5 << false;
        QTest::newRow("nearest of two wins (backwards)")
            << QByteArray("x|q|q|q|q|q|q|q|x") << QByteArray("x") << 2 << "" << 0 << -2 << false;
        QTest::newRow("nearest of two wins (forwards)")
            << QByteArray("x|q|q|q|q|q|q|q|x") << QByteArray("x") << 6 << "" << 8 << 2 << false;
        QTest::newRow("tie goes forwards first")
            << QByteArray("x|y|x|y|x|y") << QByteArray("x|y") << 3 << "" << 4 << 1 << false;
        QTest::newRow("not found") << abcde << QByteArray("b|x") << 1 << "" << -1 << 0 << false;
        QTest::newRow("hunk longer than file")
            << QByteArray("a|b") << QByteArray("a|b|c") << 0 << "" << -1 << 0 << false;
        QTest::newRow("empty file")
            << QByteArray() << QByteArray("a") << 0 << "" << -1 << 0 << false;
        QTest::newRow("pure insertion goes where stated")
            << abcde << QByteArray() << 3 << "" << 3 << 0 << false;
        QTest::newRow("pure insertion clamped to the end")
            << abcde << QByteArray() << 9 << "" << 5 << -4 << false;
        QTest::newRow("CR of a CRLF file is not a difference")
            << QByteArray("a\r|b\r|c\r") << QByteArray("b|c") << 1 << "" << 1 << 0 << false;
        QTest::newRow("CR in the hunk is not a difference")
            << QByteArray("a|b|c") << QByteArray("b\r|c\r") << 1 << "" << 1 << 0 << false;
        QTest::newRow("tabs for spaces: whitespace tier")
            << QByteArray("int f() {|\treturn 1;|}") << QByteArray("int f() {|    return 1;|}") << 0
            << "" << 0 << 0 << true;
        QTest::newRow("trailing blanks: whitespace tier")
            << QByteArray("a  |b") << QByteArray("a|b") << 0 << "" << 0 << 0 << true;
        QTest::newRow("lost indentation: whitespace tier")
            << QByteArray("x|        call();|y") << QByteArray("call();") << 0 << "" << 1 << 1
            << true;
        QTest::newRow("exact anywhere beats a nearer whitespace match")
            << QByteArray("  foo|q|q|q|q|foo") << QByteArray("foo") << 0 << "" << 5 << 5 << false;
        QTest::newRow("removed space is not whitespace drift")
            << QByteArray("a b") << QByteArray("ab") << 0 << "" << -1 << 0 << false;
        QTest::newRow("whitespace tier can be turned off")
            << QByteArray("\tfoo") << QByteArray("    foo") << 0 << "exact-only" << -1 << 0
            << false;
        QTest::newRow("anchored at the end")
            << QByteArray("x|y|q|x|y") << QByteArray("x|y") << 0 << "end" << 3 << 3 << false;
        QTest::newRow("same hunk unanchored")
            << QByteArray("x|y|q|x|y") << QByteArray("x|y") << 0 << "" << 0 << 0 << false;
        QTest::newRow("anchored at the start")
            << QByteArray("x|y|q|x|y") << QByteArray("x|y") << 3 << "start" << 0 << -3 << false;
        QTest::newRow("anchor dropped when the end does not match")
            << QByteArray("q|x|y|q") << QByteArray("x|y") << 0 << "end" << 1 << 1 << false;
        QTest::newRow("offset limit")
            << abcde << QByteArray("e") << 1 << "max1" << -1 << 0 << false;
        QTest::newRow("within the offset limit")
            << abcde << QByteArray("c") << 1 << "max1" << 2 << 1 << false;
    }
    void find()
    {
        QFETCH(QByteArray, file);
        QFETCH(QByteArray, hunk);
        QFETCH(int, expected);
        QFETCH(QString, flags);
        QFETCH(int, position);
        QFETCH(int, offset);
        QFETCH(bool, whitespace);
        HunkMatcher::Options o;
        o.anchorStart = flags == "start";
        o.anchorEnd = flags == "end";
        o.allowWhitespace = flags != "exact-only";
        if (flags == "max1")
            o.maxOffset = 1;
        const HunkMatcher::Match m = HunkMatcher::find(lines(file), lines(hunk), expected, o);
        QCOMPARE(m.found, position >= 0);
        if (position < 0)
            return;
        QCOMPARE(m.position, position);
        QCOMPARE(m.offset, offset);
        QCOMPARE(m.fuzz, whitespace ? HunkMatcher::Fuzz::Whitespace : HunkMatcher::Fuzz::None);
    }

    void nearMiss_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QByteArray>("hunk");
        QTest::addColumn<int>("expected");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("differing");
        QTest::addColumn<QString>("detail");

        QTest::newRow("one changed line")
            << QByteArray("int main() {|  foo(y);|  return 0;|}")
            << QByteArray("int main() {|  foo(x);|  return 0;") << 0 << 2 << 1
            << "expected \"  foo(x);\" but found \"  foo(y);\"";
        QTest::newRow("best window, not the stated one")
            << QByteArray("a|b|c|d|e|f|g|h|i|j") << QByteArray("f|g|X|i") << 0 << 8 << 1
            << "expected \"X\" but found \"h\"";
        QTest::newRow("tie: nearest to the stated line")
            << QByteArray("k|1|q|q|q|q|q|q|k|2") << QByteArray("k|3") << 7 << 10 << 1
            << "expected \"3\" but found \"2\"";
        QTest::newRow("several lines differ")
            << QByteArray("a|b|c") << QByteArray("a|x|y") << 0 << 2 << 2
            << "expected \"x\" but found \"b\"; 2 of 3 lines differ";
        QTest::newRow("runs past the end") << QByteArray("a|b") << QByteArray("a|b|c") << 0 << 2
                                           << 1 << "expected \"c\" but the file ends at line 2";
        QTest::newRow("empty file") << QByteArray() << QByteArray("a") << 0 << 0 << 1
                                    << "expected \"a\" but the file is empty";
        QTest::newRow("tabs and quotes made visible")
            << QByteArray("\tsay(\"hi\");") << QByteArray("\tsay(\"ho\");") << 0 << 1 << 1
            << "expected \"\\tsay(\\\"ho\\\");\" but found \"\\tsay(\\\"hi\\\");\"";
    }
    void nearMiss()
    {
        QFETCH(QByteArray, file);
        QFETCH(QByteArray, hunk);
        QFETCH(int, expected);
        QFETCH(int, line);
        QFETCH(int, differing);
        QFETCH(QString, detail);
        QVERIFY(!HunkMatcher::find(lines(file), lines(hunk), expected).found);
        const HunkMatcher::NearMiss miss =
            HunkMatcher::nearMiss(lines(file), lines(hunk), expected);
        QCOMPARE(miss.line, line);
        QCOMPARE(miss.differing, differing);
        QCOMPARE(miss.detail, detail);
    }

    void nearMissOnlyWhitespaceWhenTierDisabled()
    {
        HunkMatcher::Options o;
        o.allowWhitespace = false;
        QVERIFY(!HunkMatcher::find(lines("a|\tb"), lines("a|  b"), 0, o).found);
        const HunkMatcher::NearMiss miss = HunkMatcher::nearMiss(lines("a|\tb"), lines("a|  b"), 0);
        QCOMPARE(miss.line, 2);
        QCOMPARE(miss.detail, QString("expected \"  b\" but found \"\\tb\" (whitespace differs)"));
    }

    void longLinesShortened()
    {
        const QByteArray longLine(200, 'x');
        const HunkMatcher::NearMiss miss =
            HunkMatcher::nearMiss(lines("y"), QList<QByteArray>{longLine}, 0);
        QVERIFY2(miss.detail.size() < 200, qPrintable(miss.detail));
        QVERIFY(miss.detail.contains("..."));
    }

    void whitespaceKey_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QByteArray>("key");
        QTest::newRow("runs collapse") << QByteArray("a \t  b") << QByteArray("a b");
        QTest::newRow("ends trimmed") << QByteArray("\t a b  \r") << QByteArray("a b");
        QTest::newRow("blank") << QByteArray(" \t ") << QByteArray();
        QTest::newRow("no space kept as none") << QByteArray("ab") << QByteArray("ab");
    }
    void whitespaceKey()
    {
        QFETCH(QByteArray, line);
        QFETCH(QByteArray, key);
        QCOMPARE(HunkMatcher::whitespaceKey(line), key);
    }
};

QTEST_GUILESS_MAIN(tst_HunkMatcher)
#include "tst_hunkmatcher.moc"
