#include "healthreport.h"

#include <QJsonArray>
#include <QStringList>

void HealthReport::set(const QString &component, const ComponentHealth &health)
{
    m_components.insert(component, health);
}

Health HealthReport::overall() const
{
    Health worst = Health::Ok;
    for (const ComponentHealth &c : m_components) {
        if (int(c.status) > int(worst))
            worst = c.status;
    }
    return worst;
}

QStringList HealthReport::problems() const
{
    QStringList failing, degraded;
    for (auto it = m_components.constBegin(); it != m_components.constEnd(); ++it) {
        if (it->status == Health::Ok)
            continue;
        // A component that gives no reason still says how bad it is, never "journal: ".
        const QString line =
            it.key() + ": " + (it->message.isEmpty() ? name(it->status) : it->message);
        (it->status == Health::Failing ? failing : degraded).append(line);
    }
    return failing + degraded;
}

QJsonObject HealthReport::toJson(const QString &version, const QString &role, qint64 uptimeS) const
{
    QJsonObject components;
    for (auto it = m_components.constBegin(); it != m_components.constEnd(); ++it) {
        QJsonObject c = it->fields;
        c.insert("status", name(it->status));
        if (!it->message.isEmpty())
            c.insert("message", it->message);
        components.insert(it.key(), c);
    }
    QJsonObject o{{"status", name(overall())},
                  {"version", version},
                  {"role", role},
                  {"uptime_s", uptimeS},
                  {"components", components}};
    const QStringList p = problems();
    if (!p.isEmpty())
        o.insert("problems", QJsonArray::fromStringList(p));
    return o;
}

QString HealthReport::name(Health h)
{
    switch (h) {
    case Health::Ok:
        return QStringLiteral("ok");
    case Health::Degraded:
        return QStringLiteral("degraded");
    case Health::Failing:
        return QStringLiteral("failing");
    }
    return QStringLiteral("failing");
}

Health HealthReport::fromName(const QString &name)
{
    if (name == QLatin1String("ok"))
        return Health::Ok;
    if (name == QLatin1String("degraded"))
        return Health::Degraded;
    return Health::Failing;
}
