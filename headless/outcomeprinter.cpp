#include "outcomeprinter.h"

#include <QJsonArray>
#include <QProcessEnvironment>
#include <cstdio>
#include <unistd.h>

namespace {
bool g_color = false;

QString paint(const QString &text, const char *code)
{
    return g_color ? QStringLiteral("\033[%1m%2\033[0m").arg(QLatin1String(code), text) : text;
}

const char *statusColor(const QString &s)
{
    if (s == QLatin1String("applied"))
        return "32";
    if (s == QLatin1String("failed") || s == QLatin1String("dead"))
        return "31";
    if (s == QLatin1String("rejected"))
        return "33";
    return "36";
}
} // namespace

bool OutcomePrinter::useColor(FILE *stream)
{
    return ::isatty(fileno(stream)) &&
           !QProcessEnvironment::systemEnvironment().contains("NO_COLOR");
}

void OutcomePrinter::print(QTextStream &out, const QJsonObject &r, bool oneLine)
{
    g_color = useColor(stdout);
    const QString status = r.value("status").toString();
    QString ts = r.value("ts").toString();
    if (ts.isEmpty())
        ts = r.value("finished_at").toString();
    ts.replace('T', ' ');
    if (ts.endsWith('Z'))
        ts.chop(1);
    QStringList files;
    for (const QJsonValue &v : r.value("files").toArray()) {
        const QJsonObject f = v.toObject();
        files << QStringLiteral("%1 %2 (+%3 -%4)")
                     .arg(f.value("action").toString(), f.value("path").toString())
                     .arg(f.value("added").toInt())
                     .arg(f.value("removed").toInt());
    }
    const QJsonObject e = r.value("error").toObject();
    const QString delivery = r.value("delivery").toString();
    const QString head =
        QStringLiteral("%1  %2  %3  %4")
            .arg(paint(ts.left(23), "2"), paint(status.leftJustified(8), statusColor(status)),
                 r.value("id").toString(),
                 paint(r.value("format").toString() +
                           (r.value("dry_run").toBool() ? " (dry run)" : ""),
                       "2"));
    if (oneLine) {
        QString line = head;
        if (!files.isEmpty())
            line += "  " + files.join(", ");
        if (!e.isEmpty())
            line += "  " +
                    paint(e.value("code").toString() + ": " + e.value("message").toString(), "31");
        line += paint(
            QStringLiteral("  %1 ms  %2").arg(r.value("duration_ms").toDouble()).arg(delivery),
            "2");
        out << line << '\n';
        return;
    }
    out << head << '\n';
    out << "  delivery " << delivery << '\n';
    for (const QString &f : files)
        out << "  " << f << '\n';
    for (const QJsonValue &n : r.value("notes").toArray())
        out << "  note: " << n.toString() << '\n';
    if (!e.isEmpty()) {
        out << "  "
            << paint(e.value("code").toString() + ": " + e.value("message").toString(), "31")
            << '\n';
        if (e.contains("file"))
            out << "  file " << e.value("file").toString()
                << (e.contains("hunk") ? QStringLiteral(", hunk %1").arg(e.value("hunk").toInt())
                                       : QString())
                << (e.contains("line")
                        ? QStringLiteral(", near line %1").arg(e.value("line").toInt())
                        : QString())
                << '\n';
        if (e.contains("detail"))
            out << "  " << e.value("detail").toString().replace('\n', "\n  ") << '\n';
    }
}
