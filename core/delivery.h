#pragma once
// One delivery as the journal knows it: what arrived, where it is, and its timeline.

#include "outcome.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

struct DeliveryEvent
{
    qint64 atMs = 0;
    QString state; // received, journaled, applying, forwarding, attempt, applied, failed, …
    QJsonObject detail;
};

struct Delivery
{
    qint64 seq = 0;
    QString id;      // our uuid
    QString patchId; // the envelope's id
    QString format;
    QString status; // queued, applying, forwarding, applied, failed, rejected, dead
    QString dedupeKey;
    QString replayOf;
    QString source; // scheme that authenticated it ("open", "github", …)
    qint64 receivedAtMs = 0;
    qint64 finishedAtMs = 0;
    qint64 journaledAtMs = 0; // when intake committed it (0: unknown, an older journal)
    int attempts = 0;
    qint64 nextAttemptAtMs = 0;
    Outcome outcome; // valid once status is final
    QList<DeliveryEvent> events;

    bool isFinal() const;
    static bool isFinalStatus(const QString &status);
    QJsonObject toJson(bool withTimeline) const;
};
