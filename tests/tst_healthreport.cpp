#include "healthreport.h"

#include <QJsonArray>
#include <QTest>

Q_DECLARE_METATYPE(Health)

namespace {
ComponentHealth component(Health h, const QString &message = QString())
{
    ComponentHealth c;
    c.status = h;
    c.message = message;
    return c;
}

Health parse(QChar c)
{
    return c == 'f' ? Health::Failing : c == 'd' ? Health::Degraded : Health::Ok;
}
} // namespace

class tst_HealthReport : public QObject
{
    Q_OBJECT
private slots:
    void precedence_data()
    {
        // One letter per component (o ok, d degraded, f failing) for server, journal, forwarder,
        // executor, in that order.
        QTest::addColumn<QString>("components");
        QTest::addColumn<Health>("expected");
        QTest::newRow("none") << "" << Health::Ok;
        QTest::newRow("all ok") << "oooo" << Health::Ok;
        QTest::newRow("one degraded first") << "dooo" << Health::Degraded;
        QTest::newRow("one degraded last") << "oood" << Health::Degraded;
        QTest::newRow("one failing first") << "fooo" << Health::Failing;
        QTest::newRow("one failing last") << "ooof" << Health::Failing;
        QTest::newRow("degraded then failing") << "dfoo" << Health::Failing;
        QTest::newRow("failing then degraded") << "fdoo" << Health::Failing;
        QTest::newRow("all degraded") << "dddd" << Health::Degraded;
        QTest::newRow("all failing") << "ffff" << Health::Failing;
        QTest::newRow("mixed") << "odfd" << Health::Failing;
        QTest::newRow("single ok") << "o" << Health::Ok;
    }
    void precedence()
    {
        QFETCH(QString, components);
        QFETCH(Health, expected);
        const QStringList names{"server", "journal", "forwarder", "executor"};
        HealthReport r;
        for (int i = 0; i < components.size(); ++i)
            r.set(names[i], component(parse(components[i]), "why " + names[i]));
        QCOMPARE(r.overall(), expected);
        QCOMPARE(r.toJson("1.0", "all-in-one", 0).value("status").toString(),
                 HealthReport::name(expected));
    }

    void setReplacesAComponent()
    {
        HealthReport r;
        r.set("journal", component(Health::Failing, "disk full"));
        QCOMPARE(r.overall(), Health::Failing);
        r.set("journal", component(Health::Ok));
        QCOMPARE(r.overall(), Health::Ok);
        QCOMPARE(r.components().size(), 1);
        QVERIFY(r.problems().isEmpty());
    }

    void problemsWorstFirst()
    {
        HealthReport r;
        r.set("executor", component(Health::Degraded, "applying is paused"));
        r.set("server", component(Health::Ok));
        r.set("journal", component(Health::Failing, "the journal cannot be read"));
        r.set("forwarder", component(Health::Degraded, "runner unreachable"));
        r.set("aaa", component(Health::Failing, "first failing by name"));
        QCOMPARE(r.problems(),
                 QStringList({"aaa: first failing by name", "journal: the journal cannot be read",
                              "executor: applying is paused", "forwarder: runner unreachable"}));
    }

    void problemWithoutMessageStillSaysSomething()
    {
        HealthReport r;
        r.set("journal", component(Health::Failing));
        r.set("forwarder", component(Health::Degraded));
        QCOMPARE(r.problems(), QStringList({"journal: failing", "forwarder: degraded"}));
    }

    void jsonShape()
    {
        HealthReport r;
        ComponentHealth server;
        server.fields.insert("listening", "127.0.0.1:5555");
        server.fields.insert("status", "bogus"); // the verdict wins over a stray field
        r.set("server", server);
        ComponentHealth journal = component(Health::Degraded, "the intake queue is full");
        journal.fields.insert("pending", 7);
        r.set("journal", journal);

        const QJsonObject o = r.toJson("0.1.0", "runner", 42);
        QCOMPARE(o.value("status").toString(), QStringLiteral("degraded"));
        QCOMPARE(o.value("version").toString(), QStringLiteral("0.1.0"));
        QCOMPARE(o.value("role").toString(), QStringLiteral("runner"));
        QVERIFY(o.value("uptime_s").isDouble());
        QCOMPARE(o.value("uptime_s").toInteger(), 42);
        const QJsonObject components = o.value("components").toObject();
        QCOMPARE(components.keys(), QStringList({"journal", "server"}));
        QCOMPARE(components.value("server").toObject().value("status").toString(),
                 QStringLiteral("ok"));
        QCOMPARE(components.value("server").toObject().value("listening").toString(),
                 QStringLiteral("127.0.0.1:5555"));
        QVERIFY(!components.value("server").toObject().contains("message"));
        const QJsonObject j = components.value("journal").toObject();
        QCOMPARE(j.value("status").toString(), QStringLiteral("degraded"));
        QCOMPARE(j.value("pending").toInt(), 7);
        QCOMPARE(j.value("message").toString(), QStringLiteral("the intake queue is full"));
        QCOMPARE(o.value("problems").toArray(), QJsonArray({"journal: the intake queue is full"}));

        HealthReport healthy;
        healthy.set("server", component(Health::Ok));
        const QJsonObject h = healthy.toJson("0.1.0", "all-in-one", 0);
        QCOMPARE(h.value("status").toString(), QStringLiteral("ok"));
        QVERIFY(!h.contains("problems"));
    }

    void nameRoundTrip_data()
    {
        QTest::addColumn<Health>("health");
        QTest::addColumn<QString>("name");
        QTest::newRow("ok") << Health::Ok << "ok";
        QTest::newRow("degraded") << Health::Degraded << "degraded";
        QTest::newRow("failing") << Health::Failing << "failing";
    }
    void nameRoundTrip()
    {
        QFETCH(Health, health);
        QFETCH(QString, name);
        QCOMPARE(HealthReport::name(health), name);
        QCOMPARE(HealthReport::fromName(name), health);
        QCOMPARE(HealthReport::fromName(HealthReport::name(health)), health);
    }

    void unknownNameIsFailing_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("empty") << "";
        QTest::newRow("garbage") << "unclear";
        QTest::newRow("case") << "OK";
    }
    void unknownNameIsFailing()
    {
        // A status nobody can read must never look healthy.
        QFETCH(QString, name);
        QCOMPARE(HealthReport::fromName(name), Health::Failing);
    }
};

QTEST_GUILESS_MAIN(tst_HealthReport)
#include "tst_healthreport.moc"
