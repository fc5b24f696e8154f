#pragma once
// The tray's one-glance state: the facts the engine (or an attached daemon's /health) reports,
// reduced to one TrayState with one documented precedence, plus the tooltip that summarises them.
// In-process and attach mode build the same TrayFacts (fromHealthJson), so both show the same.
//
// Precedence, first match wins:
//   1. Failing  — the server is not listening, the daemon cannot be reached (attach), /health
//                 says failing, or the last delivery failed, was rejected or went dead.
//   2. Paused   — applying (or forwarding) is paused; intake keeps journaling.
//   3. Degraded — the runner is unreachable, or /health says degraded for another reason
//                 (e.g. the queue is full or growing while forwarding).
//   4. Busy     — a delivery is being applied or forwarded, or deliveries are queued.
//   5. Ok       — listening, nothing waiting, the last delivery applied (or none yet).
// Failing beats Paused so that a dead server is never hidden behind a pause the user forgot.

#include "healthreport.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

enum class TrayState { Ok, Busy, Degraded, Failing, Paused };

struct TrayFacts
{
    bool reachable = true; // attach mode: the daemon answers; in-process: always true
    QString listening;     // "127.0.0.1:5555", empty when not listening
    Health health = Health::Ok;
    QStringList problems; // /health's sentences, worst first
    bool paused = false;
    bool applying = false; // a delivery is applying or forwarding now
    int queued = 0;        // unfinished deliveries
    QString runnerError;   // relay: the forwarder's last error while the runner is unreachable
    qint64 runnerUnreachableForS = 0;
    QString lastStatus;  // applied | failed | rejected | dead | empty
    qint64 lastAtMs = 0; // when the last delivery finished
    QString startError;  // in-process: why the engine could not start

    bool runnerUnreachable() const { return !runnerError.isEmpty(); }
    // From a /health body (the daemon's, or Engine::health().toJson() in-process).
    static TrayFacts fromHealthJson(const QJsonObject &health);
};

TrayState computeTrayState(const TrayFacts &facts);
QString trayStateName(TrayState state);
// One line for the menu's status item ("Patches are flowing", "Failing: port in use", …).
QString trayStatusLine(TrayState state, const TrayFacts &facts);
// "Listening on 127.0.0.1:5555 · 3 queued · last: applied 2 min ago"
QString trayTooltip(const TrayFacts &facts, qint64 nowMs);
// "just now", "40 s ago", "2 min ago", "3 h ago", "2 days ago"
QString relativeAge(qint64 thenMs, qint64 nowMs);
