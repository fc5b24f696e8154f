#include "inifile.h"

#include <QFile>
#include <QSaveFile>
#include <cctype>
#include <optional>
#include <vector>

namespace {
struct Line
{
    QByteArray text;   // without its ending
    QByteArray ending; // "\n", "\r\n" or "" (the last line of a file without a final newline)
};

std::vector<Line> splitLines(const QByteArray &text)
{
    std::vector<Line> lines;
    qsizetype pos = 0;
    while (pos < text.size()) {
        const qsizetype nl = text.indexOf('\n', pos);
        Line l;
        if (nl < 0) {
            l.text = text.mid(pos);
            pos = text.size();
        } else {
            l.text = text.mid(pos, nl - pos);
            l.ending = "\n";
            pos = nl + 1;
        }
        if (l.text.endsWith('\r') && !l.ending.isEmpty()) {
            l.text.chop(1);
            l.ending = "\r\n";
        }
        lines.push_back(std::move(l));
    }
    return lines;
}

bool isComment(const QByteArray &trimmed)
{
    return trimmed.startsWith(';') || trimmed.startsWith('#');
}

// "[name]" -> name; an empty optional for any other line.
std::optional<QByteArray> sectionOf(const QByteArray &text)
{
    const QByteArray t = text.trimmed();
    if (!t.startsWith('[') || !t.contains(']'))
        return std::nullopt;
    return t.mid(1, t.indexOf(']') - 1).trimmed();
}

// "key = value" -> key; empty for comments, sections and anything else.
QByteArray keyOf(const QByteArray &text)
{
    const QByteArray t = text.trimmed();
    if (t.isEmpty() || isComment(t) || t.startsWith('['))
        return QByteArray();
    const qsizetype eq = t.indexOf('=');
    return eq < 0 ? QByteArray() : t.left(eq).trimmed();
}
} // namespace

QByteArray IniFile::encodeValue(const QString &text)
{
    // QSettings reads "@Type(...)" as a typed value and "@@" as "@", as it writes them.
    const QString value = text.startsWith(QLatin1Char('@')) ? QLatin1Char('@') + text : text;
    // QSettings trims around a value, splits it into a list at commas, ends it at ';' and reads
    // escapes after '\' and quotes: anything of that kind goes in quotes, with '\' and '"' escaped.
    bool plain = !value.isEmpty() && value == value.trimmed();
    for (const QChar c : value) {
        if (c == QLatin1Char(',') || c == QLatin1Char(';') || c == QLatin1Char('"') ||
            c == QLatin1Char('\\') || c == QLatin1Char('#') || c == QLatin1Char('=') ||
            c.unicode() < 0x20 || c.unicode() == 0x7f)
            plain = false;
    }
    if (plain)
        return value.toUtf8();
    QString escaped;
    bool lastWasHexEscape = false;
    for (const QChar c : value) {
        const bool hexDigit = c.unicode() < 0x80 && std::isxdigit(c.unicode());
        if (c == QLatin1Char('\\') || c == QLatin1Char('"')) {
            escaped += QLatin1Char('\\');
            escaped += c;
        } else if (c == QLatin1Char('\n')) {
            escaped += QLatin1String("\\n");
        } else if (c == QLatin1Char('\r')) {
            escaped += QLatin1String("\\r");
        } else if (c == QLatin1Char('\t')) {
            escaped += QLatin1String("\\t");
        } else if (c.unicode() < 0x20 || c.unicode() == 0x7f || (lastWasHexEscape && hexDigit)) {
            // A "\x" escape reads every hex digit after it: one that follows is escaped too.
            escaped += QStringLiteral("\\x%1").arg(c.unicode(), 0, 16);
            lastWasHexEscape = true;
            continue;
        } else {
            escaped += c;
        }
        lastWasHexEscape = false;
    }
    return '"' + escaped.toUtf8() + '"';
}

QByteArray IniFile::edited(const QByteArray &text, const QList<Assignment> &assignments)
{
    std::vector<Line> lines = splitLines(text);
    const QByteArray newline =
        !lines.empty() && lines.front().ending == "\r\n" ? QByteArray("\r\n") : QByteArray("\n");
    for (const auto &[path, value] : assignments) {
        const QByteArray section = path.section(QLatin1Char('/'), 0, -2).toUtf8();
        const QByteArray key = path.section(QLatin1Char('/'), -1).toUtf8();
        const QByteArray line = key + " = " + encodeValue(value);
        QByteArray current; // the section the line at hand is in ("" before the first)
        std::optional<size_t> lastInSection;
        bool set = false;
        for (size_t i = 0; i < lines.size(); ++i) {
            if (const auto s = sectionOf(lines[i].text)) {
                current = *s;
                if (current == section)
                    lastInSection = i;
                continue;
            }
            if (current != section)
                continue;
            if (!lines[i].text.trimmed().isEmpty())
                lastInSection = i;
            if (keyOf(lines[i].text) == key) {
                lines[i].text = line;
                set = true;
            }
        }
        if (set)
            continue;
        if (!lines.empty() && lines.back().ending.isEmpty())
            lines.back().ending = newline; // the file ended without one
        if (lastInSection) {
            lines.insert(lines.begin() + qsizetype(*lastInSection) + 1, Line{line, newline});
            continue;
        }
        if (!lines.empty() && !lines.back().text.trimmed().isEmpty())
            lines.push_back(Line{QByteArray(), newline});
        lines.push_back(Line{'[' + section + ']', newline});
        lines.push_back(Line{line, newline});
    }
    QByteArray out;
    out.reserve(text.size() + 64 * assignments.size());
    for (const Line &l : lines)
        out += l.text + l.ending;
    return out;
}

Status IniFile::setValues(const QString &path, const QList<Assignment> &assignments)
{
    QByteArray text;
    QFile in(path);
    if (in.exists()) {
        if (!in.open(QIODevice::ReadOnly))
            return makeError("config_not_saved",
                             QStringLiteral("cannot read %1: %2").arg(path, in.errorString()));
        text = in.readAll();
    }
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return makeError("config_not_saved",
                         QStringLiteral("cannot write %1: %2").arg(path, out.errorString()));
    out.write(edited(text, assignments));
    if (!out.commit())
        return makeError("config_not_saved",
                         QStringLiteral("cannot write %1: %2").arg(path, out.errorString()));
    return {};
}
