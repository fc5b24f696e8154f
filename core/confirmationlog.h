#pragma once
// STATE/logs/delivery-confirmation.log: one JSON object per line, one line per final outcome,
// appended and fsynced before the outcome is reported anywhere else.

#include "outcome.h"

#include <QJsonObject>
#include <QString>

#include <optional>

class ConfirmationLog
{
public:
    ConfirmationLog() = default;
    ~ConfirmationLog();
    ConfirmationLog(const ConfirmationLog &) = delete;
    ConfirmationLog &operator=(const ConfirmationLog &) = delete;

    Status open(const QString &path);
    QString path() const { return m_path; }
    Status append(const QString &delivery, const QString &patchId, const Outcome &outcome);
    // The line logged for a delivery, if any (used when recovering after a crash).
    std::optional<QJsonObject> find(const QString &delivery) const;
    static QByteArray formatLine(const QString &delivery, const QString &patchId,
                                 const Outcome &outcome, qint64 whenMs);

private:
    QString m_path;
    int m_fd = -1;
};
