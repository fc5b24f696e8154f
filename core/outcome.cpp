#include "outcome.h"

Outcome Outcome::failure(const QString &status, const QString &format, const Error &error)
{
    Outcome o;
    o.status = status;
    o.format = format;
    o.error = error;
    return o;
}

QJsonObject Outcome::toJson() const
{
    QJsonObject o{{"status", status}, {"format", format}};
    if (dryRun)
        o.insert("dry_run", true);
    if (!files.isEmpty() || applied())
        o.insert("files", files);
    if (!notes.isEmpty())
        o.insert("notes", QJsonArray::fromStringList(notes));
    if (!output.isEmpty())
        o.insert("output", output);
    if (!error.isNull())
        o.insert("error", error.toJson());
    o.insert("duration_ms", qRound64(durationMs * 1000.0) / 1000.0); // 64-bit: hours fit
    return o;
}

Outcome Outcome::fromJson(const QJsonObject &o)
{
    Outcome r;
    r.status = o.value("status").toString();
    r.format = o.value("format").toString();
    r.dryRun = o.value("dry_run").toBool();
    r.files = o.value("files").toArray();
    for (const QJsonValue &v : o.value("notes").toArray())
        r.notes.append(v.toString());
    r.output = o.value("output").toString();
    if (o.value("error").isObject())
        r.error = Error::fromJson(o.value("error").toObject());
    r.durationMs = o.value("duration_ms").toDouble();
    return r;
}
