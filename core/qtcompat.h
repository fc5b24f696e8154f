#pragma once
// The one place that knows Qt 6.4 (Debian 12) from Qt >= 6.8 (Debian 13, macOS). Everything
// else calls these and stays version-free.

#include <QDateTime>
#include <QtGlobal>

#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
#include <QTimeZone>
#endif

namespace QtCompat {

inline QDateTime utcFromMs(qint64 ms)
{
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
    return QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::UTC);
#else
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
#endif
}

// ISO 8601 with milliseconds and a Z, the timestamp format of every API answer and log line.
inline QString isoUtc(qint64 ms)
{
    return utcFromMs(ms).toString(Qt::ISODateWithMs);
}

} // namespace QtCompat
