#pragma once
// STATE/logs/delivery-confirmation.log: one JSON object per line, one line per final outcome,
// appended and fsynced before the outcome is reported anywhere else.

#include "outcome.h"

#include <QJsonObject>
#include <QString>
#include <functional>
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
    // The line logged for a delivery, if any.
    std::optional<QJsonObject> find(const QString &delivery) const;
    // Hands the lines to `visit` from the last one back, until it returns false (recovery after
    // a crash reads only the newest lines this way).
    void scanBackwards(const std::function<bool(const QJsonObject &)> &visit) const;
    static QByteArray formatLine(const QString &delivery, const QString &patchId,
                                 const Outcome &outcome, qint64 whenMs);

private:
    QString m_path;
    int m_fd = -1;
};
