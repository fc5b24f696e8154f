#include "traystate.h"

#include <QJsonArray>

namespace {
bool isFailureStatus(const QString &s)
{
    return s == QLatin1String("failed") || s == QLatin1String("rejected") ||
           s == QLatin1String("dead");
}
} // namespace

TrayFacts TrayFacts::fromHealthJson(const QJsonObject &h)
{
    TrayFacts f;
    f.health = HealthReport::fromName(h.value("status").toString());
    const QJsonObject components = h.value("components").toObject();
    f.listening = components.value("server").toObject().value("listening").toString();
    for (const QString &name : components.keys()) {
        const QJsonObject c = components.value(name).toObject();
        if (c.value("status").toString(QStringLiteral("ok")) != QLatin1String("ok") &&
            c.contains("message"))
            f.problems.append(c.value("message").toString());
    }
    for (const QJsonValue &p : h.value("problems").toArray())
        f.problems.append(p.toString());
    f.problems.removeDuplicates();
    const QJsonObject executor = components.value("executor").toObject();
    const QJsonObject forwarder = components.value("forwarder").toObject();
    const QJsonObject worker = executor.isEmpty() ? forwarder : executor;
    f.paused = worker.value("paused").toBool();
    f.lastStatus = worker.value("last_result").toString();
    f.queued = int(components.value("journal").toObject().value("pending").toInteger(
        worker.value("queue").toInteger()));
    if (!forwarder.isEmpty() && !forwarder.value("last_error").isNull()) {
        f.runnerError = forwarder.value("last_error").toString();
        f.runnerUnreachableForS = forwarder.value("unreachable_for_s").toInteger();
    }
    return f;
}

TrayState computeTrayState(const TrayFacts &f)
{
    if (!f.reachable || !f.startError.isEmpty() || f.listening.isEmpty() ||
        f.health == Health::Failing || isFailureStatus(f.lastStatus))
        return TrayState::Failing;
    if (f.paused)
        return TrayState::Paused;
    if (f.runnerUnreachable() || f.health == Health::Degraded)
        return TrayState::Degraded;
    if (f.applying || f.queued > 0)
        return TrayState::Busy;
    return TrayState::Ok;
}

QString trayStateName(TrayState s)
{
    switch (s) {
    case TrayState::Ok:
        return QStringLiteral("ok");
    case TrayState::Busy:
        return QStringLiteral("busy");
    case TrayState::Degraded:
        return QStringLiteral("degraded");
    case TrayState::Failing:
        return QStringLiteral("failing");
    case TrayState::Paused:
        return QStringLiteral("paused");
    }
    return QString();
}

QString trayStatusLine(TrayState s, const TrayFacts &f)
{
    switch (s) {
    case TrayState::Ok:
        return QStringLiteral("Patches are flowing");
    case TrayState::Busy:
        return f.applying ? QStringLiteral("Applying a patch…")
                          : QStringLiteral("%1 patch(es) waiting").arg(f.queued);
    case TrayState::Paused:
        return QStringLiteral("Paused: patches are journaled, not applied");
    case TrayState::Degraded:
        if (f.runnerUnreachable())
            return QStringLiteral("Runner unreachable: %1").arg(f.runnerError);
        return QStringLiteral("Degraded: %1")
            .arg(f.problems.value(0, QStringLiteral("see the deliveries window")));
    case TrayState::Failing:
        if (!f.reachable)
            return QStringLiteral("Daemon unreachable");
        if (!f.startError.isEmpty())
            return QStringLiteral("Not running: %1").arg(f.startError);
        if (f.listening.isEmpty())
            return QStringLiteral("Not listening");
        if (isFailureStatus(f.lastStatus))
            return QStringLiteral("Last delivery %1").arg(f.lastStatus);
        return QStringLiteral("Failing: %1")
            .arg(f.problems.value(0, QStringLiteral("see /health")));
    }
    return QString();
}

QString relativeAge(qint64 thenMs, qint64 nowMs)
{
    const qint64 s = qMax<qint64>(0, (nowMs - thenMs) / 1000);
    if (s < 5)
        return QStringLiteral("just now");
    if (s < 60)
        return QStringLiteral("%1 s ago").arg(s);
    if (s < 3600)
        return QStringLiteral("%1 min ago").arg(s / 60);
    if (s < 86400)
        return QStringLiteral("%1 h ago").arg(s / 3600);
    const qint64 d = s / 86400;
    return d == 1 ? QStringLiteral("1 day ago") : QStringLiteral("%1 days ago").arg(d);
}

QString trayTooltip(const TrayFacts &f, qint64 nowMs)
{
    QStringList parts;
    if (!f.reachable)
        parts << QStringLiteral("Daemon unreachable");
    else if (!f.startError.isEmpty())
        parts << QStringLiteral("Not running: %1").arg(f.startError);
    else if (f.listening.isEmpty())
        parts << QStringLiteral("Not listening");
    else
        parts << QStringLiteral("Listening on %1").arg(f.listening);
    if (f.paused)
        parts << QStringLiteral("paused");
    parts << QStringLiteral("%1 queued").arg(f.queued);
    if (f.runnerUnreachable())
        parts << QStringLiteral("runner unreachable");
    if (!f.lastStatus.isEmpty()) {
        parts << (f.lastAtMs > 0 ? QStringLiteral("last: %1 %2")
                                       .arg(f.lastStatus, relativeAge(f.lastAtMs, nowMs))
                                 : QStringLiteral("last: %1").arg(f.lastStatus));
    }
    return parts.join(QStringLiteral(" · "));
}
