#include "delivery.h"

#include "qtcompat.h"

namespace {
QJsonValue isoTime(qint64 ms)
{
    if (ms <= 0)
        return QJsonValue::Null;
    return QtCompat::isoUtc(ms);
}
} // namespace

bool Delivery::isFinalStatus(const QString &status)
{
    return status == QLatin1String("applied") || status == QLatin1String("failed") ||
           status == QLatin1String("rejected") || status == QLatin1String("dead");
}

bool Delivery::isFinal() const
{
    return isFinalStatus(status);
}

QJsonObject Delivery::toJson(bool withTimeline) const
{
    QJsonObject o{{"delivery", id},
                  {"id", patchId},
                  {"format", format},
                  {"status", status},
                  {"received_at", isoTime(receivedAtMs)},
                  {"finished_at", isoTime(finishedAtMs)},
                  {"links", QJsonObject{{"self", "/deliveries/" + id}}}};
    if (!replayOf.isEmpty())
        o.insert("replay_of", replayOf);
    if (attempts > 0)
        o.insert("attempts", attempts);
    if (isFinal()) {
        const QJsonObject out = outcome.toJson();
        for (auto it = out.constBegin(); it != out.constEnd(); ++it) {
            if (it.key() != QLatin1String("status") && it.key() != QLatin1String("format"))
                o.insert(it.key(), it.value());
        }
    }
    if (withTimeline) {
        QJsonArray timeline;
        for (const DeliveryEvent &e : events) {
            QJsonObject ev{{"at", isoTime(e.atMs)}, {"state", e.state}};
            if (!e.detail.isEmpty())
                ev.insert("detail", e.detail);
            timeline.append(ev);
        }
        o.insert("timeline", timeline);
    }
    return o;
}
