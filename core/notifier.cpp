#include "notifier.h"

#include <QDateTime>

Notifier::Notifier(QObject *parent) : QObject(parent)
{
    m_clock = [] { return QDateTime::currentMSecsSinceEpoch(); };
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &Notifier::checkDue);
}

void Notifier::setClock(Clock clock)
{
    m_clock = std::move(clock);
}

void Notifier::setEnabled(NotificationKind kind, bool enabled)
{
    m_enabled[int(kind)] = enabled;
}

bool Notifier::isEnabled(NotificationKind kind) const
{
    return m_enabled.value(int(kind), true);
}

QList<NotificationKind> Notifier::allKinds()
{
    return {NotificationKind::DeliveryFailed, NotificationKind::DeliveryDead,
            NotificationKind::ServerFailed, NotificationKind::RunnerUnreachable,
            NotificationKind::Recovered};
}

QString Notifier::kindKey(NotificationKind kind)
{
    switch (kind) {
    case NotificationKind::DeliveryFailed:
        return QStringLiteral("delivery_failed");
    case NotificationKind::DeliveryDead:
        return QStringLiteral("delivery_dead");
    case NotificationKind::ServerFailed:
        return QStringLiteral("server_failed");
    case NotificationKind::RunnerUnreachable:
        return QStringLiteral("runner_unreachable");
    case NotificationKind::Recovered:
        return QStringLiteral("recovered");
    }
    return QString();
}

QString Notifier::kindLabel(NotificationKind kind)
{
    switch (kind) {
    case NotificationKind::DeliveryFailed:
        return QStringLiteral("A delivery failed or was rejected");
    case NotificationKind::DeliveryDead:
        return QStringLiteral("A delivery went dead (relay gave up)");
    case NotificationKind::ServerFailed:
        return QStringLiteral("The server could not start");
    case NotificationKind::RunnerUnreachable:
        return QStringLiteral("The runner has been unreachable for 30 s");
    case NotificationKind::Recovered:
        return QStringLiteral("Recovered");
    }
    return QString();
}

void Notifier::deliveryFinished(const QString &deliveryId, const QString &patchId,
                                const Outcome &outcome)
{
    Notification n;
    n.deliveryId = deliveryId;
    if (outcome.status == QLatin1String("dead")) {
        n.kind = NotificationKind::DeliveryDead;
        n.summary = QStringLiteral("Patch %1 went dead").arg(patchId);
        n.body = outcome.error.message.isEmpty()
                     ? QStringLiteral("The runner did not confirm it within the retry budget.")
                     : outcome.error.message;
    } else if (outcome.status == QLatin1String("failed") ||
               outcome.status == QLatin1String("rejected")) {
        n.kind = NotificationKind::DeliveryFailed;
        n.summary = QStringLiteral("Patch %1 %2").arg(patchId, outcome.status);
        n.body = outcome.error.message.isEmpty() ? QStringLiteral("No reason was given.")
                                                 : outcome.error.message;
    } else {
        return;
    }
    m_problemNotified = true;
    emitCoalesced(n);
}

void Notifier::serverFailed(const QString &reason)
{
    Notification n;
    n.kind = NotificationKind::ServerFailed;
    n.summary = QStringLiteral("Ghost Runner could not start");
    n.body = reason;
    m_problemNotified = true;
    emitCoalesced(n);
}

void Notifier::runnerReachability(const QString &error)
{
    if (!error.isEmpty()) {
        m_unreachableError = error;
        if (m_unreachableSinceMs < 0) {
            m_unreachableSinceMs = m_clock();
            arm();
        }
        checkDue();
        return;
    }
    const bool wasNotified = m_unreachableNotified;
    m_unreachableSinceMs = -1;
    m_unreachableNotified = false;
    m_unreachableError.clear();
    if (wasNotified && isEnabled(NotificationKind::Recovered)) {
        m_problemNotified = false;
        emit notify({NotificationKind::Recovered, QStringLiteral("The runner is reachable again"),
                     QStringLiteral("Deliveries are flowing to the runner."), QString(), 1});
    }
    arm();
}

void Notifier::healthChanged(Health now, Health previous)
{
    if (now == Health::Ok && previous != Health::Ok && m_problemNotified) {
        m_problemNotified = false;
        if (m_unreachableSinceMs >= 0)
            return; // runnerReachability("") says it
        if (isEnabled(NotificationKind::Recovered))
            emit notify({NotificationKind::Recovered, QStringLiteral("Ghost Runner recovered"),
                         QStringLiteral("Everything is working again."), QString(), 1});
    }
}

void Notifier::emitCoalesced(Notification n)
{
    if (!isEnabled(n.kind))
        return;
    const qint64 now = m_clock();
    auto it = m_bursts.find(int(n.kind));
    if (it != m_bursts.end() && now >= it->windowEndMs)
        flushBurst(n.kind);
    it = m_bursts.find(int(n.kind));
    if (it != m_bursts.end()) {
        ++it->suppressed;
        arm();
        return;
    }
    m_bursts.insert(int(n.kind), Burst{now + m_windowMs, 0});
    emit notify(n);
    arm();
}

void Notifier::flushBurst(NotificationKind kind)
{
    const Burst b = m_bursts.take(int(kind));
    if (b.suppressed == 0)
        return;
    const int total = b.suppressed + 1;
    const qint64 seconds = qMax<qint64>(1, m_windowMs / 1000);
    Notification n;
    n.kind = kind;
    n.count = total;
    switch (kind) {
    case NotificationKind::DeliveryFailed:
        n.summary = QStringLiteral("%1 deliveries failed in the last %2 s").arg(total).arg(seconds);
        break;
    case NotificationKind::DeliveryDead:
        n.summary =
            QStringLiteral("%1 deliveries went dead in the last %2 s").arg(total).arg(seconds);
        break;
    default:
        n.summary = QStringLiteral("%1 problems in the last %2 s").arg(total).arg(seconds);
    }
    n.body = QStringLiteral("Open the deliveries window to see each one.");
    // A summary of a burst still counts as one notification in its own window.
    emit notify(n);
}

void Notifier::checkDue()
{
    const qint64 now = m_clock();
    const QList<int> kinds = m_bursts.keys();
    for (int k : kinds) {
        if (m_bursts.value(k).windowEndMs <= now)
            flushBurst(NotificationKind(k));
    }
    if (m_unreachableSinceMs >= 0 && !m_unreachableNotified &&
        now - m_unreachableSinceMs >= m_unreachableAfterMs) {
        m_unreachableNotified = true;
        if (isEnabled(NotificationKind::RunnerUnreachable)) {
            m_problemNotified = true;
            emit notify({NotificationKind::RunnerUnreachable,
                         QStringLiteral("The runner has been unreachable for %1 s")
                             .arg((now - m_unreachableSinceMs) / 1000),
                         m_unreachableError, QString(), 1});
        }
    }
    arm();
}

qint64 Notifier::nextDueMs() const
{
    qint64 next = -1;
    for (const Burst &b : m_bursts) {
        if (b.suppressed > 0) // a lone first event needs no timer: the next one closes it
            next = next < 0 ? b.windowEndMs : qMin(next, b.windowEndMs);
    }
    if (m_unreachableSinceMs >= 0 && !m_unreachableNotified) {
        const qint64 due = m_unreachableSinceMs + m_unreachableAfterMs;
        next = next < 0 ? due : qMin(next, due);
    }
    return next;
}

void Notifier::arm()
{
    const qint64 due = nextDueMs();
    if (due < 0) {
        m_timer.stop();
        return;
    }
    m_timer.start(int(qBound<qint64>(0, due - m_clock(), qint64(24) * 3600 * 1000)));
}
