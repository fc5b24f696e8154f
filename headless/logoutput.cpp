#include "logoutput.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <cstdio>

namespace {
bool g_json = false;

const char *levelName(QtMsgType t)
{
    switch (t) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "error";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

void handler(QtMsgType type, const QMessageLogContext &ctx, const QString &msg)
{
    const QString ts = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    const char *category = ctx.category ? ctx.category : "default";
    QByteArray line;
    if (g_json) {
        QJsonObject o{
            {"ts", ts}, {"level", levelName(type)}, {"category", category}, {"message", msg}};
        static const QRegularExpression delivery(QStringLiteral(
            "delivery ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"));
        const auto m = delivery.match(msg);
        if (m.hasMatch())
            o.insert("delivery", m.captured(1));
        line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    } else {
        line = QStringLiteral("%1 %2 %3: %4\n")
                   .arg(ts, QLatin1String(levelName(type)), QLatin1String(category), msg)
                   .toUtf8();
    }
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}
} // namespace

void LogOutput::install(const QString &format)
{
    g_json = format == QLatin1String("json");
    qInstallMessageHandler(handler);
}
