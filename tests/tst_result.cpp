// Failures as values: Error's JSON shape (the "error" object of every API answer and log line),
// Result<T> and Status (Result<void>) carrying either a value or an Error.

#include "result.h"

#include <QJsonDocument>
#include <QTest>
#include <memory>

namespace {
Error fullError()
{
    Error e = makeError("hunk_failed", "hunk 2 of src/a.c did not match near line 40");
    e.file = "src/a.c";
    e.hunk = 2;
    e.line = 40;
    e.detail = "line 41 differs in white space";
    return e;
}

Result<int> parsePositive(int v)
{
    if (v <= 0)
        return makeError("not_positive", QStringLiteral("%1 is not positive").arg(v));
    return v;
}

Status checkEven(int v)
{
    if (v % 2)
        return makeError("odd", QStringLiteral("%1 is odd").arg(v));
    return {};
}
} // namespace

class tst_Result : public QObject
{
    Q_OBJECT
private slots:
    void makeErrorSetsCodeAndMessageOnly()
    {
        const Error e = makeError("bad_json", "the body is not valid JSON");
        QCOMPARE(e.code, QString("bad_json"));
        QCOMPARE(e.message, QString("the body is not valid JSON"));
        QVERIFY(e.file.isEmpty());
        QCOMPARE(e.hunk, 0);
        QCOMPARE(e.line, 0);
        QVERIFY(e.detail.isEmpty());
        QVERIFY(!e.isNull());
        QVERIFY(Error().isNull());
    }

    void toJsonShape_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("hunk");
        QTest::addColumn<int>("line");
        QTest::addColumn<QString>("detail");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("code and message only")
            << QString() << 0 << 0 << QString() << QByteArray(R"({"code":"c","message":"m"})");
        QTest::newRow("file") << "a.txt" << 0 << 0 << QString()
                              << QByteArray(R"({"code":"c","file":"a.txt","message":"m"})");
        QTest::newRow("hunk and line")
            << QString() << 3 << 17 << QString()
            << QByteArray(R"({"code":"c","hunk":3,"line":17,"message":"m"})");
        QTest::newRow("negative numbers are left out")
            << QString() << -1 << -5 << QString() << QByteArray(R"({"code":"c","message":"m"})");
        QTest::newRow("detail") << QString() << 0 << 0 << "exit 1"
                                << QByteArray(R"({"code":"c","detail":"exit 1","message":"m"})");
    }
    void toJsonShape()
    {
        QFETCH(QString, file);
        QFETCH(int, hunk);
        QFETCH(int, line);
        QFETCH(QString, detail);
        QFETCH(QByteArray, expected);
        Error e = makeError("c", "m");
        e.file = file;
        e.hunk = hunk;
        e.line = line;
        e.detail = detail;
        QCOMPARE(QJsonDocument(e.toJson()).toJson(QJsonDocument::Compact), expected);
    }

    void jsonRoundTrip()
    {
        const Error e = fullError();
        const Error back = Error::fromJson(e.toJson());
        QCOMPARE(back.code, e.code);
        QCOMPARE(back.message, e.message);
        QCOMPARE(back.file, e.file);
        QCOMPARE(back.hunk, e.hunk);
        QCOMPARE(back.line, e.line);
        QCOMPARE(back.detail, e.detail);
    }

    void fromJsonOfNothingIsNull_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("empty object") << QByteArray("{}");
        QTest::newRow("code of the wrong type") << QByteArray(R"({"code":5,"message":"m"})");
        QTest::newRow("unrelated keys") << QByteArray(R"({"status":"applied"})");
    }
    void fromJsonOfNothingIsNull()
    {
        QFETCH(QByteArray, json);
        const Error e = Error::fromJson(QJsonDocument::fromJson(json).object());
        QVERIFY(e.isNull());
        QCOMPARE(e.hunk, 0);
        QCOMPARE(e.line, 0);
    }

    void resultCarriesAValue()
    {
        const Result<int> r = parsePositive(7);
        QVERIFY(r.ok());
        QVERIFY(bool(r));
        QCOMPARE(r.value(), 7);
        QCOMPARE(*r, 7);
        QVERIFY(r.error().isNull());
    }

    void resultCarriesAnError()
    {
        const Result<int> r = parsePositive(-3);
        QVERIFY(!r.ok());
        QVERIFY(!bool(r));
        QCOMPARE(r.error().code, QString("not_positive"));
        QCOMPARE(r.error().message, QString("-3 is not positive"));
    }

    void resultOfAnEmptyErrorIsStillAFailure()
    {
        // No value was given: whatever the error says, there is nothing to use.
        const Result<QString> r{Error()};
        QVERIFY(!r.ok());
    }

    void resultGivesAccessAndMovesOut()
    {
        Result<QString> r(QStringLiteral("hello"));
        QCOMPARE(r->size(), 5);
        r.value().append(" world");
        QCOMPARE(*r, QString("hello world"));

        Result<std::unique_ptr<int>> owned(std::make_unique<int>(42));
        QVERIFY(owned.ok());
        std::unique_ptr<int> taken = std::move(owned).value();
        QVERIFY(taken);
        QCOMPARE(*taken, 42);
    }

    void resultKeepsTheWholeError()
    {
        const Result<int> r{fullError()};
        QCOMPARE(r.error().file, QString("src/a.c"));
        QCOMPARE(r.error().hunk, 2);
        QCOMPARE(r.error().line, 40);
        QCOMPARE(r.error().detail, QString("line 41 differs in white space"));
    }

    void status_data()
    {
        QTest::addColumn<int>("value");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("code");
        QTest::newRow("even") << 4 << true << QString();
        QTest::newRow("zero") << 0 << true << QString();
        QTest::newRow("odd") << 3 << false << "odd";
        QTest::newRow("negative odd") << -1 << false << "odd";
    }
    void status()
    {
        QFETCH(int, value);
        QFETCH(bool, ok);
        QFETCH(QString, code);
        const Status s = checkEven(value);
        QCOMPARE(s.ok(), ok);
        QCOMPARE(bool(s), ok);
        QCOMPARE(s.error().code, code);
        if (!ok)
            QVERIFY(s.error().message.contains(QString::number(value)));
    }

    void defaultStatusIsSuccess()
    {
        const Status s;
        QVERIFY(s.ok());
        QVERIFY(s.error().isNull());
    }

    void statusFromAResultsError()
    {
        // The common "if (!r.ok()) return r.error();" hand-off keeps code and message.
        const auto forward = []() -> Status {
            const Result<int> r = parsePositive(0);
            if (!r.ok())
                return r.error();
            return {};
        };
        const Status s = forward();
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, QString("not_positive"));
        QCOMPARE(s.error().message, QString("0 is not positive"));
    }
};

QTEST_GUILESS_MAIN(tst_Result)
#include "tst_result.moc"
