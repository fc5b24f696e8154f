#pragma once
// Where the Dispatcher hands each journaled delivery: the local executor (all-in-one, runner)
// or the Forwarder (relay). A sink reports progress for the timeline and, once, the outcome.

#include "delivery.h"

#include <QJsonObject>
#include <functional>

class DeliverySink
{
public:
    using Progress = std::function<void(const QString &state, const QJsonObject &detail)>;
    using Done = std::function<void(const Outcome &outcome)>;

    virtual ~DeliverySink() = default;
    // The status a delivery has while this sink works on it ("applying", "forwarding").
    virtual QString activeStatus() const = 0;
    // Starts one delivery; calls done exactly once, on the caller's thread.
    virtual void deliver(const Delivery &delivery, const QByteArray &body, Progress progress,
                         Done done) = 0;
    // On shutdown: drop the current delivery without an outcome if that is safe, and say so.
    // The delivery stays unfinished in the journal and is resumed after a restart. A sink that
    // cannot stop safely mid-way (the executor) returns false and is waited for.
    virtual bool abandon() { return false; }
    // The outcome's confirmation line is on disk: make it permanent (e.g. drop rollback data)
    // before returning. Called on the dispatcher's log-writer thread, before the journal takes
    // the outcome and before anyone hears of it, so that an answer never shows a workspace
    // with rollback files in it; nothing else of this sink runs meanwhile (the delivery is
    // still the current one).
    virtual void confirmed(const QString &deliveryId, const Outcome &outcome) {}
    // Whether a delivery may start before its intake commit is on disk: the sink can undo it
    // (withdrawn()) should that commit never get there. The executor can (it rolls the
    // workspace transaction back); a forwarder cannot take back what a runner received.
    virtual bool canWithdraw() const { return false; }
    // The delivery's intake never reached the disk and was taken back: undo what deliver() did.
    // Its outcome is not confirmed; done has already been called.
    virtual void withdrawn(const QString &deliveryId) {}
    // Before any delivery starts: settle work a crash interrupted. `loggedOutcome` says what
    // the confirmation log holds for a delivery, if anything.
    virtual void recover(const std::function<bool(const QString &deliveryId)> &isSettled) {}
};
