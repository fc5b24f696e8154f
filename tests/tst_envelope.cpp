// Envelope: one patch envelope parsed and validated (SPEC.md "Patch envelope"): id, format
// detection, dry_run, and the hash that tells a repeated delivery from a conflicting one.

#include "envelope.h"

#include <QJsonDocument>
#include <QTest>

class tst_Envelope : public QObject
{
    Q_OBJECT
private slots:
    void parse_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("code");   // empty: parses
        QTest::addColumn<QString>("format"); // the concrete format, or a word the message holds
        QTest::addColumn<bool>("dryRun");

        const auto ok = [](const char *name, const QByteArray &body, const char *format,
                           bool dry = false) {
            QTest::newRow(name) << body << QString() << QString(format) << dry;
        };
        const auto bad = [](const char *name, const QByteArray &body, const char *code,
                            const char *inMessage) {
            QTest::newRow(name) << body << QString(code) << QString(inMessage) << false;
        };

        // Valid envelopes: explicit formats and auto-detection.
        ok("pattern, auto",
           R"({"id":"patch-v3.9.7(P8.13.03)_ghost-dispatch-final-test","format":"auto",)"
           R"("target_file":"a.py","patch":{"pattern":"x","replacement":"y"}})",
           "pattern");
        ok("pattern, no format field", R"({"id":"p","target_file":"a","patch":{"pattern":"x"}})",
           "pattern");
        ok("pattern, explicit", R"({"id":"p","format":"pattern","patch":{"pattern":"x"}})",
           "pattern");
        ok("mutations, auto", R"({"id":"m","mutations":[{"path":"a","contents":"x"}]})",
           "mutations");
        ok("mutations with validate",
           R"({"id":"m","mutations":[],"validate":{"shell":["make test"]}})", "mutations");
        ok("unified, ---", R"({"id":"u","patch":"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"})",
           "unified");
        ok("unified, diff --git",
           R"({"id":"u","patch":"diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n"})",
           "unified");
        ok("unified in diff field", R"({"id":"u","diff":"--- a/x\n+++ b/x\n@@ -1 +1 @@\n"})",
           "unified");
        ok("unified, bare hunk", R"({"id":"u","patch":"@@ -1 +1 @@\n-a\n+b\n"})", "unified");
        ok("unified after a preamble",
           R"({"id":"u","patch":"Fixes the bug.\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n"})", "unified");
        ok("apply_patch",
           R"({"id":"a","patch":"*** Begin Patch\n*** Update File: a.py\n@@\n-x\n+y\n*** End Patch"})",
           "apply_patch");
        ok("apply_patch after blank lines",
           R"({"id":"a","patch":"\n\n  *** Begin Patch\n*** Add File: b\n+x\n*** End Patch\n"})",
           "apply_patch");
        ok("apply_patch after prose",
           R"({"id":"a","patch":"Here it is:\n*** Begin Patch\n*** End Patch\n"})", "apply_patch");
        ok("search_replace",
           R"({"id":"s","patch":"a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n"})",
           "search_replace");
        ok("search_replace with eight-character markers",
           R"({"id":"s","patch":"a.py\n<<<<<<<< SEARCH\nx\n========\ny\n>>>>>>>> REPLACE\n"})",
           "search_replace");
        ok("search_replace in a fence without a path line",
           R"({"id":"s","target_file":"a.py","patch":"```\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n"})",
           "search_replace");
        ok("command", R"({"id":"c","role":"command_patch","patch":"make"})", "command");
        ok("explicit format beats detection",
           R"({"id":"c","format":"unified","role":"command_patch","patch":"make"})", "unified");
        ok("explicit search_replace", R"({"id":"s","format":"search_replace","patch":"anything"})",
           "search_replace");
        ok("dry run true", R"({"id":"d","dry_run":true,"patch":"@@ -1 +1 @@\n"})", "unified", true);
        ok("dry run false", R"({"id":"d","dry_run":false,"patch":"@@ -1 +1 @@\n"})", "unified");
        ok("unicode id", R"({"id":"補丁-ü-🚀","patch":{"pattern":"x"}})", "pattern");
        ok("id of 256 characters",
           "{\"id\":\"" + QByteArray(256, 'i') + "\",\"patch\":{\"pattern\":\"x\"}}", "pattern");
        ok("brackets inside strings do not count as nesting",
           "{\"id\":\"" + QByteArray(200, '[') + "\",\"patch\":{\"pattern\":\"" +
               QByteArray(200, '{') + "\"}}",
           "pattern");
        ok("escaped quote before brackets",
           "{\"id\":\"a\\\"" + QByteArray(100, '[') + "\",\"patch\":{\"pattern\":\"x\"}}",
           "pattern");
        ok("nested 60 levels deep",
           "{\"id\":\"n\",\"patch\":{\"pattern\":\"x\"},\"extra\":" + QByteArray(60, '[') +
               QByteArray(60, ']') + "}",
           "pattern");
        ok("leading and trailing whitespace",
           "\n\t {\"id\":\"w\",\"patch\":{\"pattern\":\"x\"}} \r\n", "pattern");

        // Bad JSON: code bad_json, the message says where.
        bad("trailing comma", R"({"id":"x",})", "bad_json", "offset");
        bad("truncated", R"({"id":)", "bad_json", "offset");
        bad("unquoted key", R"({id:"x"})", "bad_json", "offset");
        bad("single quotes", R"({'id':'x'})", "bad_json", "offset");
        bad("garbage after object", R"({"id":"x"} trailing)", "bad_json", "offset");
        bad("not JSON at all", "id=x&patch=y", "bad_json", "offset");
        bad("empty body", "", "bad_json", "empty");
        bad("whitespace only", " \n\t ", "bad_json", "empty");
        bad("10000 open brackets", QByteArray(10000, '['), "bad_json", "nested");
        bad("10000 balanced brackets", QByteArray(10000, '[') + QByteArray(10000, ']'), "bad_json",
            "nested");
        bad("deep objects inside an envelope",
            "{\"id\":\"x\",\"a\":" + QByteArray("{\"a\":").repeated(100) + "1" +
                QByteArray(100, '}') + "}",
            "bad_json", "nested");

        // Not an object.
        bad("array", R"([{"id":"x"}])", "bad_envelope", "object");
        bad("empty array", "[]", "bad_envelope", "object");

        // The id.
        bad("missing id", R"({"patch":{"pattern":"x"}})", "missing_id", "id");
        bad("null id", R"({"id":null,"patch":{"pattern":"x"}})", "missing_id", "id");
        bad("empty id", R"({"id":"","patch":{"pattern":"x"}})", "bad_envelope", "id");
        bad("blank id", R"({"id":"  ","patch":{"pattern":"x"}})", "bad_envelope", "id");
        bad("numeric id", R"({"id":42,"patch":{"pattern":"x"}})", "bad_envelope", "id");
        bad("boolean id", R"({"id":true,"patch":{"pattern":"x"}})", "bad_envelope", "id");
        bad("object id", R"({"id":{"a":1},"patch":{"pattern":"x"}})", "bad_envelope", "id");
        bad("array id", R"({"id":["x"],"patch":{"pattern":"x"}})", "bad_envelope", "id");
        bad("id of 257 characters",
            "{\"id\":\"" + QByteArray(257, 'i') + "\",\"patch\":{\"pattern\":\"x\"}}",
            "bad_envelope", "256");
        bad("newline in id", R"({"id":"a\nb","patch":{"pattern":"x"}})", "bad_envelope", "control");
        bad("NUL in id", R"({"id":"a\u0000b","patch":{"pattern":"x"}})", "bad_envelope", "control");
        // (not a raw string: moc's lexer trips over this one)
        bad("escape in id", "{\"id\":\"\\u001b[31mred\",\"patch\":{\"pattern\":\"x\"}}",
            "bad_envelope", "control");
        bad("tab in id", R"({"id":"a\tb","patch":{"pattern":"x"}})", "bad_envelope", "control");
        bad("DEL in id", R"({"id":"a\u007fb","patch":{"pattern":"x"}})", "bad_envelope", "control");
        bad("C1 CSI in id", R"({"id":"a\u009b31mb","patch":{"pattern":"x"}})", "bad_envelope",
            "control");

        // The format.
        bad("unknown format", R"({"id":"x","format":"git","patch":"x"})", "unknown_format", "git");
        bad("format is case-sensitive", R"({"id":"x","format":"Unified","patch":"x"})",
            "unknown_format", "Unified");
        bad("numeric format", R"({"id":"x","format":3,"patch":"x"})", "bad_envelope", "format");
        bad("null format", R"({"id":"x","format":null,"patch":"x"})", "bad_envelope", "format");
        bad("auto, undetectable text", R"({"id":"x","patch":"please fix the bug"})",
            "unknown_format", "format");
        bad("auto, no body", R"({"id":"x"})", "unknown_format", "format");
        bad("auto, empty patch", R"({"id":"x","format":"auto","patch":""})", "unknown_format",
            "format");
        bad("auto, mutations not a list", R"({"id":"x","mutations":{"path":"a"}})",
            "unknown_format", "format");
        bad("auto, patch is a number", R"({"id":"x","patch":5})", "unknown_format", "format");

        // dry_run.
        bad("dry_run string", R"({"id":"x","dry_run":"true","patch":{"pattern":"x"}})",
            "bad_envelope", "dry_run");
        bad("dry_run number", R"({"id":"x","dry_run":1,"patch":{"pattern":"x"}})", "bad_envelope",
            "dry_run");
        bad("dry_run null", R"({"id":"x","dry_run":null,"patch":{"pattern":"x"}})", "bad_envelope",
            "dry_run");
    }

    void parse()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, code);
        QFETCH(QString, format);
        QFETCH(bool, dryRun);
        const Result<Envelope> e = Envelope::parse(body);
        if (code.isEmpty()) {
            QVERIFY2(e.ok(), qPrintable(e.error().code + ": " + e.error().message));
            QCOMPARE(e->format, format);
            QCOMPARE(e->dryRun, dryRun);
            QCOMPARE(e->body, body);
            QCOMPARE(e->id, QJsonDocument::fromJson(body).object().value("id").toString());
            QVERIFY(!e->id.isEmpty());
            QCOMPARE(e->bodyHash.size(), 64);
            QVERIFY(Envelope::knownFormats().contains(e->requestedFormat));
        } else {
            QVERIFY2(!e.ok(), "parsed, but should have been refused");
            QCOMPARE(e.error().code, code);
            QVERIFY2(e.error().message.contains(format, Qt::CaseInsensitive),
                     qPrintable(e.error().message));
        }
    }

    // Scalars at the top level are never envelopes, whichever way the JSON parser treats them.
    void topLevelScalars_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("string") << QByteArray(R"("an id")");
        QTest::newRow("number") << QByteArray("42");
        QTest::newRow("null") << QByteArray("null");
        QTest::newRow("true") << QByteArray("true");
    }
    void topLevelScalars()
    {
        QFETCH(QByteArray, body);
        const Result<Envelope> e = Envelope::parse(body);
        QVERIFY(!e.ok());
        QVERIFY2(e.error().code == "bad_json" || e.error().code == "bad_envelope",
                 qPrintable(e.error().code));
        QVERIFY(!e.error().message.isEmpty());
    }

    // Invalid UTF-8 is refused, not silently replaced: the patch would differ from what was sent.
    void invalidUtf8()
    {
        const Result<Envelope> e =
            Envelope::parse("{\"id\":\"x\",\"patch\":{\"pattern\":\"caf\xe9\"}}");
        QVERIFY(!e.ok());
        QCOMPARE(e.error().code, QString("bad_json"));
    }

    void badJsonNamesTheOffset()
    {
        const Result<Envelope> e = Envelope::parse(R"({"id":"x", "patch": oops})");
        QCOMPARE(e.error().code, QString("bad_json"));
        QVERIFY2(e.error().message.contains("offset 20"), qPrintable(e.error().message));
    }

    void bodyHash_data()
    {
        QTest::addColumn<QByteArray>("a");
        QTest::addColumn<QByteArray>("b");
        QTest::addColumn<bool>("same");
        const QByteArray base = R"({"id":"h","patch":{"pattern":"x","replacement":"y"}})";
        QTest::newRow("identical") << base << base << true;
        QTest::newRow("whitespace")
            << base
            << QByteArray("{\n  \"id\" : \"h\",\n  \"patch\" : {\n    \"pattern\" : \"x\",\n"
                          "    \"replacement\" : \"y\"\n  }\n}\n")
            << true;
        QTest::newRow("key order")
            << base << QByteArray(R"({"patch":{"replacement":"y","pattern":"x"},"id":"h"})")
            << true;
        QTest::newRow("unicode escapes")
            << QByteArray(R"({"id":"h","patch":{"pattern":"\u00e9"}})")
            << QByteArray(R"({"id":"h","patch":{"pattern":"é"}})") << true;
        QTest::newRow("different replacement")
            << base << QByteArray(R"({"id":"h","patch":{"pattern":"x","replacement":"z"}})")
            << false;
        QTest::newRow("different id")
            << base << QByteArray(R"({"id":"h2","patch":{"pattern":"x","replacement":"y"}})")
            << false;
        QTest::newRow("extra field")
            << base
            << QByteArray(R"({"id":"h","dry_run":false,"patch":{"pattern":"x","replacement":"y"}})")
            << false;
        QTest::newRow("whitespace inside a string")
            << base << QByteArray(R"({"id":"h","patch":{"pattern":"x ","replacement":"y"}})")
            << false;
        QTest::newRow("string versus number")
            << QByteArray(R"({"id":"h","patch":{"pattern":"x"},"n":1})")
            << QByteArray(R"({"id":"h","patch":{"pattern":"x"},"n":"1"})") << false;
    }
    void bodyHash()
    {
        QFETCH(QByteArray, a);
        QFETCH(QByteArray, b);
        QFETCH(bool, same);
        const Result<Envelope> ea = Envelope::parse(a);
        const Result<Envelope> eb = Envelope::parse(b);
        QVERIFY2(ea.ok(), qPrintable(ea.error().message));
        QVERIFY2(eb.ok(), qPrintable(eb.error().message));
        QCOMPARE(ea->bodyHash == eb->bodyHash, same);
        QCOMPARE(ea->bodyHash.size(), 64);
    }

    void patchText()
    {
        QCOMPARE(Envelope::parse(R"({"id":"a","patch":"--- a\n"})")->patchText(),
                 QString("--- a\n"));
        QCOMPARE(Envelope::parse(R"({"id":"a","diff":"--- b\n"})")->patchText(),
                 QString("--- b\n"));
        QCOMPARE(Envelope::parse(R"({"id":"a","patch":{"pattern":"x"}})")->patchText(), QString());
        const Result<Envelope> d =
            Envelope::parse(R"({"id":"a","description":"Fix it","patch":"@@ -1 +1 @@\n"})");
        QCOMPARE(d->description, QString("Fix it"));
        QCOMPARE(d->requestedFormat, QString("auto"));
    }
};

QTEST_GUILESS_MAIN(tst_Envelope)
#include "tst_envelope.moc"
