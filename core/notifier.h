#pragma once
// Decides which events deserve a desktop notification, and words them. No UI types: the tray
// turns a Notification into a D-Bus Notify or a balloon. Each kind can be switched off. Bursts
// are coalesced: the first event of a kind is shown at once, later ones inside the window are
// counted and reported once when it closes ("5 deliveries failed in the last 10 s"). "The
// runner has been unreachable for 30 s" comes from health transitions, not from polling: one
// single-shot timer is armed only while something is due. The clock is injectable, so tests
// advance time and call checkDue() instead of sleeping.

#include "healthreport.h"
#include "outcome.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>
#include <functional>

enum class NotificationKind {
    DeliveryFailed,
    DeliveryDead,
    ServerFailed,
    RunnerUnreachable,
    Recovered
};

struct Notification
{
    NotificationKind kind = NotificationKind::DeliveryFailed;
    QString summary;
    QString body;
    QString deliveryId; // the delivery a click opens; empty for a coalesced burst or health
    int count = 1;      // >1: a coalesced burst
};

class Notifier final : public QObject
{
    Q_OBJECT
public:
    using Clock = std::function<qint64()>; // milliseconds, monotonic enough for windows

    explicit Notifier(QObject *parent = nullptr);

    void setClock(Clock clock);
    void setEnabled(NotificationKind kind, bool enabled);
    bool isEnabled(NotificationKind kind) const;
    void setCoalesceWindowMs(qint64 ms) { m_windowMs = ms; }
    qint64 coalesceWindowMs() const { return m_windowMs; }
    void setUnreachableAfterMs(qint64 ms) { m_unreachableAfterMs = ms; }

    static QString kindKey(NotificationKind kind); // "delivery_failed", … (settings keys)
    static QList<NotificationKind> allKinds();
    static QString kindLabel(NotificationKind kind); // "A delivery failed", … (settings UI)

    // Inputs.
    // A delivery reached its final status; only failed/rejected/dead notify.
    void deliveryFinished(const QString &deliveryId, const QString &patchId,
                          const Outcome &outcome);
    // The server could not start (or stopped listening), with the reason.
    void serverFailed(const QString &reason);
    // The runner's reachability as /health reports it (relay role); empty error: reachable.
    void runnerReachability(const QString &error);
    // The overall health changed (engine signal or an SSE health event).
    void healthChanged(Health now, Health previous);

    // Emits what has become due by the clock: closed coalescing windows, the unreachable
    // threshold. The internal timer calls it; tests call it after advancing their clock.
    void checkDue();
    // When the next thing is due (ms on the clock), or -1.
    qint64 nextDueMs() const;

signals:
    void notify(const Notification &notification);

private:
    struct Burst
    {
        qint64 windowEndMs = 0; // the first event's time + window
        int suppressed = 0;     // events counted after the first
    };
    void emitCoalesced(Notification n);
    void flushBurst(NotificationKind kind);
    void arm();

    Clock m_clock;
    QHash<int, bool> m_enabled;
    QHash<int, Burst> m_bursts;
    qint64 m_windowMs = 10000;
    qint64 m_unreachableAfterMs = 30000;
    qint64 m_unreachableSinceMs = -1;
    QString m_unreachableError;
    bool m_unreachableNotified = false;
    bool m_problemNotified = false; // something bad was announced: "recovered" is worth saying
    QTimer m_timer;
};
