#pragma once
// Each component's health and the overall verdict, with one precedence (failing > degraded >
// ok) computed in one place. /health, `ghost-runner status` and the tray all read this object.

#include <QJsonObject>
#include <QMap>
#include <QString>

enum class Health { Ok = 0, Degraded = 1, Failing = 2 };

struct ComponentHealth
{
    Health status = Health::Ok;
    QJsonObject fields; // component-specific facts ("listening", "pending", …)
    QString message;    // why it is not ok, for people
};

class HealthReport
{
public:
    void set(const QString &component, const ComponentHealth &health);
    Health overall() const;
    const QMap<QString, ComponentHealth> &components() const { return m_components; }
    // Sentences for every component that is not ok, worst first.
    QStringList problems() const;
    QJsonObject toJson(const QString &version, const QString &role, qint64 uptimeS) const;

    static QString name(Health h);
    static Health fromName(const QString &name);

private:
    QMap<QString, ComponentHealth> m_components;
};
