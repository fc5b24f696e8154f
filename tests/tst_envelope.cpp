#include "envelope.h"

#include <QTest>

class tst_Envelope : public QObject
{
    Q_OBJECT
private slots:
    void parse_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("expected"); // format, or "!code"
        QTest::newRow("pattern auto") << QByteArray(R"({"id":"a","target_file":"f","patch":{"pattern":"x","replacement":"y"}})") << "pattern";
        QTest::newRow("mutations auto") << QByteArray(R"({"id":"a","mutations":[{"path":"f","contents":""}]})") << "mutations";
        QTest::newRow("unified auto") << QByteArray(R"({"id":"a","patch":"--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n"})") << "unified";
        QTest::newRow("unified diff key") << QByteArray(R"({"id":"a","diff":"diff --git a/f b/f\n"})") << "unified";
        QTest::newRow("apply_patch auto") << QByteArray(R"({"id":"a","patch":"*** Begin Patch\n*** End Patch\n"})") << "apply_patch";
        QTest::newRow("search_replace auto") << QByteArray(R"({"id":"a","patch":"f.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n"})") << "search_replace";
        QTest::newRow("command auto") << QByteArray(R"({"id":"a","role":"command_patch","patch":"make"})") << "command";
        QTest::newRow("explicit format") << QByteArray(R"({"id":"a","format":"unified","patch":"x"})") << "unified";
        QTest::newRow("spec id") << QByteArray(R"({"id":"patch-v3.9.7(P8.13.03)_ghost-dispatch-final-test","mutations":[]})") << "mutations";
        QTest::newRow("bad json") << QByteArray("{\"id\":") << "!bad_json";
        QTest::newRow("empty") << QByteArray("  ") << "!bad_json";
        QTest::newRow("array") << QByteArray("[]") << "!bad_envelope";
        QTest::newRow("missing id") << QByteArray(R"({"mutations":[]})") << "!missing_id";
        QTest::newRow("null id") << QByteArray(R"({"id":null,"mutations":[]})") << "!missing_id";
        QTest::newRow("empty id") << QByteArray(R"({"id":"  ","mutations":[]})") << "!bad_envelope";
        QTest::newRow("numeric id") << QByteArray(R"({"id":7,"mutations":[]})") << "!bad_envelope";
        QTest::newRow("long id") << QByteArray("{\"id\":\"" + QByteArray(300, 'x') + "\",\"mutations\":[]}") << "!bad_envelope";
        QTest::newRow("control id") << QByteArray("{\"id\":\"a\\u0001\",\"mutations\":[]}") << "!bad_envelope";
        QTest::newRow("unknown format") << QByteArray(R"({"id":"a","format":"zip"})") << "!unknown_format";
        QTest::newRow("format not string") << QByteArray(R"({"id":"a","format":1})") << "!bad_envelope";
        QTest::newRow("undetectable") << QByteArray(R"({"id":"a","patch":"hello"})") << "!unknown_format";
        QTest::newRow("dry_run not bool") << QByteArray(R"({"id":"a","mutations":[],"dry_run":"yes"})") << "!bad_envelope";
        QTest::newRow("deep nesting") << QByteArray(10000, '[') << "!bad_json";
        QTest::newRow("invalid utf8") << QByteArray("{\"id\":\"\xff\xfe\",\"mutations\":[]}") << "!bad_json";
    }
    void parse()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, expected);
        const Result<Envelope> e = Envelope::parse(body);
        if (expected.startsWith('!')) {
            QVERIFY2(!e.ok(), qPrintable(e.ok() ? e->format : QString()));
            QCOMPARE(e.error().code, expected.mid(1));
            QVERIFY(!e.error().message.isEmpty());
        } else {
            QVERIFY2(e.ok(), qPrintable(e.error().message));
            QCOMPARE(e->format, expected);
            QCOMPARE(e->body, body);
        }
    }
    void badJsonNamesOffset()
    {
        const Result<Envelope> e = Envelope::parse("{\"id\": \"a\", }");
        QVERIFY(e.error().message.contains("offset"));
    }
    void hashIgnoresWhitespaceNotContent()
    {
        const auto a = Envelope::parse(R"({"id":"a","mutations":[{"path":"f","contents":"x"}]})");
        const auto b = Envelope::parse("{ \"mutations\" : [ {\"contents\":\"x\", \"path\":\"f\"} ],\n \"id\":\"a\" }");
        const auto c = Envelope::parse(R"({"id":"a","mutations":[{"path":"f","contents":"y"}]})");
        QVERIFY(a.ok() && b.ok() && c.ok());
        QCOMPARE(a->bodyHash, b->bodyHash);
        QVERIFY(a->bodyHash != c->bodyHash);
        QCOMPARE(a->bodyHash.size(), 64);
    }
    void dryRunAndDescription()
    {
        const auto e = Envelope::parse(R"({"id":"a","mutations":[],"dry_run":true,"description":"d"})");
        QVERIFY(e->dryRun);
        QCOMPARE(e->description, QString("d"));
    }
};

QTEST_GUILESS_MAIN(tst_Envelope)
#include "tst_envelope.moc"
