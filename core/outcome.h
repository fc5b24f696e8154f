#pragma once
// The final word on one delivery: what the confirmation log, the journal, the HTTP answer and
// the desktop all report.

#include "changeset.h"
#include "result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

struct Outcome
{
    QString status; // applied | failed | rejected | dead
    QString format;
    bool dryRun = false;
    QJsonArray files;
    QStringList notes;
    QString output; // captured command output, if commands ran
    Error error;
    double durationMs = 0;

    bool applied() const { return status == QLatin1String("applied"); }
    static Outcome failure(const QString &status, const QString &format, const Error &error);
    // The confirmation-log line (without ts/delivery/id, which the log adds).
    QJsonObject toJson() const;
    static Outcome fromJson(const QJsonObject &o);
};

#include <QMetaType>
Q_DECLARE_METATYPE(Outcome)
