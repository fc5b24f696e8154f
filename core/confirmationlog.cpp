#include "confirmationlog.h"

#include "disksync.h"
#include "faultinjection.h"
#include "qtcompat.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

ConfirmationLog::~ConfirmationLog()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

Status ConfirmationLog::open(const QString &path)
{
    m_path = path;
    if (m_fd >= 0) // reopening (e.g. after log rotation) must not leak the old descriptor
        ::close(m_fd);
    QDir().mkpath(QFileInfo(path).absolutePath());
    m_fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  0644);
    if (m_fd < 0)
        return makeError("log_not_writable",
                         QStringLiteral("cannot open the confirmation log "
                                        "%1: %2")
                             .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    return {};
}

QByteArray ConfirmationLog::formatLine(const QString &delivery, const QString &patchId,
                                       const Outcome &outcome, qint64 whenMs)
{
    // Fields in the order people read them (SPEC.md): when, which, what happened, details.
    const QJsonObject fields = outcome.toJson();
    QList<QPair<QString, QJsonValue>> ordered{
        {"ts", QtCompat::isoUtc(whenMs)}, {"delivery", delivery}, {"id", patchId}};
    for (const char *key :
         {"status", "format", "dry_run", "files", "notes", "output", "error", "duration_ms"}) {
        if (fields.contains(QLatin1String(key)))
            ordered.append({QLatin1String(key), fields.value(QLatin1String(key))});
    }
    QByteArray line = "{";
    for (const auto &[key, value] : ordered) {
        if (line.size() > 1)
            line += ',';
        // A one-member array serialises a single value with Qt's own escaping.
        QByteArray v = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
        line += '"' + key.toUtf8() + "\":" + v.mid(1, v.size() - 2);
    }
    return line + "}\n";
}

Status ConfirmationLog::append(const QString &delivery, const QString &patchId,
                               const Outcome &outcome)
{
    if (m_fd < 0)
        return makeError("log_not_writable", "the confirmation log is not open");
    const QByteArray line =
        formatLine(delivery, patchId, outcome, QDateTime::currentMSecsSinceEpoch());
    qsizetype done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(m_fd, line.constData() + done, size_t(line.size() - done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return makeError("log_not_writable",
                             QStringLiteral("cannot append to the confirmation log: %1")
                                 .arg(QString::fromLocal8Bit(std::strerror(errno))));
        }
        done += n;
    }
    if (!flushToDisk(m_fd))
        return makeError("log_not_writable",
                         QStringLiteral("cannot flush the confirmation log: %1")
                             .arg(QString::fromLocal8Bit(std::strerror(errno))));
    FaultInjection::crashPoint("after-log-append");
    return {};
}

std::optional<QJsonObject> ConfirmationLog::find(const QString &delivery) const
{
    QFile f(m_path);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray needle = "\"delivery\":\"" + delivery.toUtf8() + '"';
    std::optional<QJsonObject> found;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine();
        if (line.contains(needle)) {
            const QJsonDocument doc = QJsonDocument::fromJson(line);
            if (doc.isObject())
                found = doc.object();
        }
    }
    return found;
}

void ConfirmationLog::scanBackwards(const std::function<bool(const QJsonObject &)> &visit) const
{
    QFile f(m_path);
    if (!f.open(QIODevice::ReadOnly))
        return;
    constexpr qint64 kBlock = 64 * 1024;
    qint64 end = f.size();
    QByteArray tail; // the start of a line whose beginning is in an earlier block
    while (end > 0) {
        const qint64 start = qMax<qint64>(0, end - kBlock);
        if (!f.seek(start))
            return;
        QByteArray block = f.read(end - start) + tail;
        end = start;
        // Every complete line in the block, newest first; the first (maybe partial) one waits for
        // the block before it, unless this is the start of the file.
        qsizetype lineEnd = block.size();
        for (qsizetype nl = block.lastIndexOf('\n', lineEnd - 1); nl >= 0 || start == 0;
             nl = lineEnd > 0 ? block.lastIndexOf('\n', lineEnd - 1) : -1) {
            const qsizetype lineStart = nl + 1;
            if (lineEnd > lineStart) {
                const QJsonDocument doc =
                    QJsonDocument::fromJson(block.mid(lineStart, lineEnd - lineStart));
                if (doc.isObject() && !visit(doc.object()))
                    return;
            }
            lineEnd = nl;
            if (nl < 0)
                break;
        }
        tail = lineEnd > 0 ? block.left(lineEnd) : QByteArray();
    }
}
