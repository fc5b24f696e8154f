#include "healthreport.h"

#include <QJsonArray>
#include <QTest>

Q_DECLARE_METATYPE(Health)

class tst_HealthReport : public QObject
{
    Q_OBJECT
private slots:
    void precedence_data()
    {
        QTest::addColumn<QList<int>>("components");
        QTest::addColumn<Health>("overall");
        QTest::newRow("none") << QList<int>{} << Health::Ok;
        QTest::newRow("all ok") << QList<int>{0, 0, 0} << Health::Ok;
        QTest::newRow("one degraded") << QList<int>{0, 1, 0} << Health::Degraded;
        QTest::newRow("one failing") << QList<int>{0, 0, 2} << Health::Failing;
        QTest::newRow("failing beats degraded") << QList<int>{1, 2, 1} << Health::Failing;
        QTest::newRow("all degraded") << QList<int>{1, 1} << Health::Degraded;
    }
    void precedence()
    {
        QFETCH(QList<int>, components);
        QFETCH(Health, overall);
        HealthReport r;
        for (int i = 0; i < components.size(); ++i)
            r.set(QString("c%1").arg(i), {Health(components[i]), {}, "why"});
        QCOMPARE(r.overall(), overall);
    }
    void problemsWorstFirst()
    {
        HealthReport r;
        r.set("a", {Health::Degraded, {}, "slow"});
        r.set("b", {Health::Failing, {}, "down"});
        r.set("c", {Health::Ok, {}, ""});
        QCOMPARE(r.problems(), (QStringList{"b: down", "a: slow"}));
    }
    void json()
    {
        HealthReport r;
        r.set("server", {Health::Ok, {{"listening", "127.0.0.1:1"}}, ""});
        r.set("executor", {Health::Failing, {{"writable", false}}, "not writable"});
        const QJsonObject o = r.toJson("1.2.3", "all-in-one", 42);
        QCOMPARE(o["status"].toString(), QString("failing"));
        QCOMPARE(o["version"].toString(), QString("1.2.3"));
        QCOMPARE(o["role"].toString(), QString("all-in-one"));
        QCOMPARE(o["uptime_s"].toInt(), 42);
        QCOMPARE(o["components"]["server"]["status"].toString(), QString("ok"));
        QCOMPARE(o["components"]["server"]["listening"].toString(), QString("127.0.0.1:1"));
        QCOMPARE(o["components"]["executor"]["message"].toString(), QString("not writable"));
        QCOMPARE(o["problems"].toArray().size(), 1);
        for (Health h : {Health::Ok, Health::Degraded, Health::Failing})
            QCOMPARE(HealthReport::fromName(HealthReport::name(h)), h);
    }
};

QTEST_GUILESS_MAIN(tst_HealthReport)
#include "tst_healthreport.moc"
