#include "unifieddiffparser.h"

#include "hunkmatcher.h"
#include "parallelfor.h"

#include <QHash>
#include <QRegularExpression>
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

// ---------------------------------------------------------------------------------------------
// Hunk and FilePatch helpers

QList<QByteArray> Hunk::oldLines() const
{
    QList<QByteArray> out;
    for (const HunkLine &l : lines) {
        if (l.kind != '+')
            out.append(l.text);
    }
    return out;
}

QList<QByteArray> Hunk::newLines() const
{
    QList<QByteArray> out;
    for (const HunkLine &l : lines) {
        if (l.kind != '-')
            out.append(l.text);
    }
    return out;
}

bool Hunk::oldEndsWithoutNewline() const
{
    for (auto it = lines.crbegin(); it != lines.crend(); ++it) {
        if (it->kind != '+')
            return it->noNewline;
    }
    return false;
}

bool Hunk::newEndsWithoutNewline() const
{
    for (auto it = lines.crbegin(); it != lines.crend(); ++it) {
        if (it->kind != '-')
            return it->noNewline;
    }
    return false;
}

int Hunk::leadingContext() const
{
    int n = 0;
    while (n < lines.size() && lines[n].kind == ' ')
        ++n;
    return n;
}

int Hunk::trailingContext() const
{
    int n = 0;
    while (n < lines.size() && lines[lines.size() - 1 - n].kind == ' ')
        ++n;
    return n;
}

int Hunk::added() const
{
    return int(
        std::count_if(lines.begin(), lines.end(), [](const HunkLine &l) { return l.kind == '+'; }));
}

int Hunk::removed() const
{
    return int(
        std::count_if(lines.begin(), lines.end(), [](const HunkLine &l) { return l.kind == '-'; }));
}

int FilePatch::added() const
{
    int n = 0;
    for (const Hunk &h : hunks)
        n += h.added();
    return n;
}

int FilePatch::removed() const
{
    int n = 0;
    for (const Hunk &h : hunks)
        n += h.removed();
    return n;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Small text helpers

QByteArray chompCr(const QByteArray &line)
{
    return line.endsWith('\r') ? line.left(line.size() - 1) : line;
}

// A QByteArray over bytes that someone else owns and keeps alive (no copy, no allocation).
QByteArray view(const char *data, qsizetype size)
{
    return QByteArray::fromRawData(data, size);
}

// chompCr for a view: the result is a view too.
QByteArray chompCrView(const QByteArray &line)
{
    return line.endsWith('\r') ? view(line.constData(), line.size() - 1) : line;
}

bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

// Reads a decimal number at *p (at least one digit, at most INT_MAX).
bool readNumber(const char **p, const char *end, int *out)
{
    qint64 value = 0;
    const char *q = *p;
    while (q < end && *q >= '0' && *q <= '9') {
        value = value * 10 + (*q - '0');
        if (value > std::numeric_limits<int>::max())
            return false;
        ++q;
    }
    if (q == *p)
        return false;
    *p = q;
    *out = int(value);
    return true;
}

// The common "@@ -a,b +c,d @@ section" header of printable ASCII, read without the regex that
// judges every other form; false when it is not that (then the regex decides).
bool parsePlainHunkHeader(const QByteArray &header, int *oldStart, int *oldCount, int *newStart,
                          int *newCount, QByteArray *section)
{
    for (const char c : header) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u >= 0x7f)
            return false;
    }
    const char *p = header.constData() + 2; // past "@@"
    const char *const end = header.constData() + header.size();
    while (p < end && isBlank(*p))
        ++p;
    if (p == end || *p++ != '-' || !readNumber(&p, end, oldStart))
        return false;
    *oldCount = 1;
    if (p < end && *p == ',' && !(++p, readNumber(&p, end, oldCount)))
        return false;
    if (p == end || !isBlank(*p))
        return false;
    while (p < end && isBlank(*p))
        ++p;
    if (p == end || *p++ != '+' || !readNumber(&p, end, newStart))
        return false;
    *newCount = 1;
    if (p < end && *p == ',' && !(++p, readNumber(&p, end, newCount)))
        return false;
    while (p < end && isBlank(*p))
        ++p;
    if (end - p < 2 || p[0] != '@' || p[1] != '@')
        return false;
    p += 2;
    const char *last = end;
    while (p < last && isBlank(*p))
        ++p;
    while (last > p && isBlank(last[-1]))
        --last;
    *section = QByteArray(p, last - p);
    return true;
}

Error patchError(const QString &code, const QString &message, const QString &file = QString(),
                 int line = 0)
{
    Error e = makeError(code, message);
    e.file = file;
    e.line = line;
    return e;
}

// Reads a C-quoted name ("a\tb\"c\\d\303\251") starting at text[0] == '"'. Returns the bytes and
// sets *consumed to the length including both quotes, or returns nullopt when it is malformed.
std::optional<QByteArray> unquoteC(const QByteArray &text, int *consumed)
{
    QByteArray out;
    for (int i = 1; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            *consumed = i + 1;
            return out;
        }
        if (c != '\\') {
            out.append(c);
            continue;
        }
        if (++i >= text.size())
            return std::nullopt;
        const char e = text[i];
        switch (e) {
        case 'a':
            out.append('\a');
            break;
        case 'b':
            out.append('\b');
            break;
        case 'f':
            out.append('\f');
            break;
        case 'n':
            out.append('\n');
            break;
        case 'r':
            out.append('\r');
            break;
        case 't':
            out.append('\t');
            break;
        case 'v':
            out.append('\v');
            break;
        case '\\':
        case '"':
            out.append(e);
            break;
        default:
            if (e >= '0' && e <= '7') {
                int value = 0;
                int digits = 0;
                while (digits < 3 && i < text.size() && text[i] >= '0' && text[i] <= '7') {
                    value = value * 8 + (text[i] - '0');
                    ++i;
                    ++digits;
                }
                --i;
                if (value > 0xff)
                    return std::nullopt;
                out.append(char(value));
            } else {
                return std::nullopt;
            }
        }
    }
    return std::nullopt;
}

bool isBodyLine(const QByteArray &raw)
{
    const QByteArray l = chompCr(raw);
    return l.isEmpty() || l[0] == ' ' || l[0] == '-' || l[0] == '+' || l[0] == '\\';
}

// A name from a "---"/"+++" line, without a trailing timestamp.
struct HeaderName
{
    QString name; // raw, prefixes not yet stripped; empty for /dev/null
    bool devNull = false;
    bool epoch = false; // timestamp says 1970: GNU diff -N's way of saying "no such file"
    bool ok = true;
};

const QRegularExpression &timestampRe()
{
    static const QRegularExpression re(QStringLiteral(
        R"(\s+(\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?(\s*([+-]\d\d:?\d\d|Z|[A-Z]{3,4}))?)"
        R"(|(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec))"
        R"( [ \d]\d \d\d:\d\d:\d\d \d{4}(\s+[+-]\d{4})?)\s*$)"));
    return re;
}

bool isEpoch(const QString &stamp)
{
    return stamp.contains(QLatin1String("1970-01-01 00:00:00")) ||
           stamp.contains(QLatin1String("1969-12-31 ")) ||
           stamp.contains(QLatin1String("Jan  1 00:00:00 1970"));
}

HeaderName headerName(const QByteArray &rest)
{
    HeaderName h;
    QString name;
    QString stamp;
    if (rest.startsWith('"')) {
        int used = 0;
        const std::optional<QByteArray> q = unquoteC(rest, &used);
        if (!q) {
            h.ok = false;
            return h;
        }
        name = QString::fromUtf8(*q);
        stamp = QString::fromUtf8(rest.mid(used));
    } else {
        const int tab = int(rest.indexOf('\t'));
        if (tab >= 0) {
            name = QString::fromUtf8(rest.left(tab));
            stamp = QString::fromUtf8(rest.mid(tab + 1));
        } else {
            name = QString::fromUtf8(rest);
            const QRegularExpressionMatch m = timestampRe().match(name);
            if (m.hasMatch() && m.capturedStart() > 0) {
                stamp = m.captured(0);
                name.truncate(m.capturedStart());
            }
        }
        while (!name.isEmpty() && name.back().isSpace())
            name.chop(1);
    }
    if (name == QLatin1String("/dev/null")) {
        h.devNull = true;
        return h;
    }
    h.name = name;
    h.epoch = isEpoch(stamp);
    h.ok = !name.isEmpty();
    return h;
}

// Removes p leading components (like patch -p); nullopt when the name has too few.
std::optional<QString> stripComponents(const QString &name, int p)
{
    int pos = 0;
    for (int k = 0; k < p; ++k) {
        const int slash = int(name.indexOf(QLatin1Char('/'), pos));
        if (slash < 0)
            return std::nullopt;
        pos = slash + 1;
        while (pos < name.size() && name[pos] == QLatin1Char('/'))
            ++pos;
    }
    if (pos >= name.size())
        return std::nullopt;
    return name.mid(pos);
}

// git's prefix pairs: a/ b/ by default, diff.mnemonicPrefix's c/ i/ w/ o/, --no-index's 1/ 2/.
bool hasPrefixPair(const QString &oldName, const QString &newName)
{
    static const char *const pairs[][2] = {{"a/", "b/"}, {"c/", "w/"}, {"c/", "i/"}, {"i/", "w/"},
                                           {"o/", "w/"}, {"w/", "o/"}, {"1/", "2/"}};
    for (const auto &pair : pairs) {
        if (oldName.startsWith(QLatin1String(pair[0])) &&
            newName.startsWith(QLatin1String(pair[1])))
            return true;
    }
    return false;
}

bool hasSinglePrefix(const QString &name)
{
    return name.startsWith(QLatin1String("a/")) || name.startsWith(QLatin1String("b/"));
}

// ---------------------------------------------------------------------------------------------
// The parser proper

class Parser
{
public:
    // The sections in lines [begin, end) of a diff split by splitLines(). borrow: hunk lines may
    // point into the diff (no copies), which must then outlive the result.
    Parser(const QList<QByteArray> &lines, const UnifiedDiffParser::Options &o, bool borrow,
           int begin, int end)
        : m_options(o), m_borrow(borrow), m_lines(lines), m_i(begin), m_end(end)
    {}

    // Only the loop here stops at `end`: whatever reads a section stops at the next "diff "
    // line by itself, and may look past it as it would in one pass over the whole diff.
    Status run()
    {
        while (m_i < m_end) {
            const QByteArray l = line(m_i);
            Status s;
            if (l.startsWith("diff --git "))
                s = parseGitSection();
            else if (isHeaderPair(m_i))
                s = parseTraditionalSection();
            else if (l.startsWith("Binary files ") && l.endsWith(" differ"))
                s = parseBinaryNotice();
            else if (l.startsWith("@@ -") || l.startsWith("@@@"))
                return patchError(
                    "bad_patch",
                    QStringLiteral("line %1 starts a hunk outside any file section").arg(m_i + 1),
                    QString(), m_i + 1);
            else
                ++m_i; // commit messages, "diff -u" lines, "Index:" lines: not ours to read
            if (!s.ok())
                return s;
        }
        return {};
    }
    QList<FilePatch> &patches() { return m_patches; }
    int position() const { return m_i; }

private:
    QByteArray line(int k) const { return chompCrView(m_lines[k]); }

    bool isHeaderPair(int k) const
    {
        return k + 1 < m_lines.size() && line(k).startsWith("--- ") &&
               line(k + 1).startsWith("+++ ");
    }

    int stripFor(bool prefixed) const
    {
        if (m_options.strip >= 0)
            return m_options.strip;
        return prefixed ? 1 : 0;
    }

    // "diff --git a/x b/y": both names, unstripped. Names with spaces are split where both halves
    // name the same file, as git does; renames take their names from "rename from/to" anyway.
    static bool gitHeaderNames(const QByteArray &rest, QString *oldName, QString *newName)
    {
        if (rest.startsWith('"')) {
            int used = 0;
            const std::optional<QByteArray> first = unquoteC(rest, &used);
            if (!first || used >= rest.size() || rest[used] != ' ')
                return false;
            const QByteArray tail = rest.mid(used + 1);
            *oldName = QString::fromUtf8(*first);
            if (tail.startsWith('"')) {
                const std::optional<QByteArray> second = unquoteC(tail, &used);
                if (!second)
                    return false;
                *newName = QString::fromUtf8(*second);
            } else {
                *newName = QString::fromUtf8(tail);
            }
            return true;
        }
        const int quoted = int(rest.indexOf(" \""));
        if (quoted > 0) {
            int used = 0;
            const std::optional<QByteArray> second = unquoteC(rest.mid(quoted + 1), &used);
            if (second) {
                *oldName = QString::fromUtf8(rest.left(quoted));
                *newName = QString::fromUtf8(*second);
                return true;
            }
        }
        const QString text = QString::fromUtf8(rest);
        int fallback = -1;
        for (int s = int(text.indexOf(QLatin1Char(' '))); s > 0;
             s = int(text.indexOf(QLatin1Char(' '), s + 1))) {
            const QString a = text.left(s);
            const QString b = text.mid(s + 1);
            const int p = hasPrefixPair(a, b) ? 1 : 0;
            if (fallback < 0 && hasPrefixPair(a, b))
                fallback = s;
            if (stripComponents(a, p) == stripComponents(b, p) && stripComponents(a, p)) {
                *oldName = a;
                *newName = b;
                return true;
            }
        }
        if (fallback < 0)
            fallback = int(text.indexOf(QLatin1Char(' ')));
        if (fallback <= 0)
            return false;
        *oldName = text.left(fallback);
        *newName = text.mid(fallback + 1);
        return true;
    }

    static QByteArray afterSecondWord(const QByteArray &l)
    {
        const qsizetype first = l.indexOf(' ');
        return l.mid(l.indexOf(' ', first + 1) + 1);
    }

    static std::optional<int> parseMode(const QByteArray &text)
    {
        bool ok = false;
        const int mode = text.trimmed().toInt(&ok, 8);
        if (!ok)
            return std::nullopt;
        return mode;
    }

    // The value of "rename from X" and the like: C-quoted or plain, one component less than -p.
    std::optional<QString> extendedName(const QByteArray &value, int p) const
    {
        QString name;
        if (value.startsWith('"')) {
            int used = 0;
            const std::optional<QByteArray> q = unquoteC(value, &used);
            if (!q)
                return std::nullopt;
            name = QString::fromUtf8(*q);
        } else {
            name = QString::fromUtf8(value);
        }
        return stripComponents(name, std::max(0, p - 1));
    }

    Status parseGitSection()
    {
        FilePatch fp;
        fp.isGit = true;
        fp.diffLine = m_i + 1;
        const QByteArray rest = line(m_i).mid(int(qstrlen("diff --git ")));
        QString rawOld;
        QString rawNew;
        int p = stripFor(true);
        QString defOld;
        QString defNew;
        if (gitHeaderNames(rest, &rawOld, &rawNew)) {
            p = stripFor(hasPrefixPair(rawOld, rawNew));
            defOld = stripComponents(rawOld, p).value_or(QString());
            defNew = stripComponents(rawNew, p).value_or(QString());
        }
        ++m_i;

        std::optional<QString> renameFrom, renameTo;
        std::optional<HeaderName> minus, plus;
        bool sawHeader = false;
        while (m_i < m_lines.size()) {
            const QByteArray l = line(m_i);
            auto value = [&](const char *key) { return l.mid(int(qstrlen(key))); };
            if (l.startsWith("old mode ")) {
                fp.oldMode = parseMode(value("old mode "));
            } else if (l.startsWith("new mode ")) {
                fp.newMode = parseMode(value("new mode "));
            } else if (l.startsWith("deleted file mode ")) {
                fp.isDelete = true;
                fp.oldMode = parseMode(value("deleted file mode "));
            } else if (l.startsWith("new file mode ")) {
                fp.isNew = true;
                fp.newMode = parseMode(value("new file mode "));
            } else if (l.startsWith("rename from ") || l.startsWith("rename old ") ||
                       l.startsWith("copy from ")) {
                (l.startsWith("copy") ? fp.isCopy : fp.isRename) = true;
                renameFrom = extendedName(afterSecondWord(l), p);
                if (!renameFrom)
                    return badHeader(l);
            } else if (l.startsWith("rename to ") || l.startsWith("rename new ") ||
                       l.startsWith("copy to ")) {
                (l.startsWith("copy") ? fp.isCopy : fp.isRename) = true;
                renameTo = extendedName(afterSecondWord(l), p);
                if (!renameTo)
                    return badHeader(l);
            } else if (l.startsWith("similarity index ")) {
                fp.similarity = value("similarity index ").replace("%", "").toInt();
            } else if (l.startsWith("dissimilarity index ")) {
                fp.dissimilarity = value("dissimilarity index ").replace("%", "").toInt();
            } else if (l.startsWith("index ")) {
                const QList<QByteArray> parts = l.split(' ');
                if (parts.size() >= 3 && !fp.oldMode && !fp.newMode) {
                    fp.oldMode = parseMode(parts[2]);
                    fp.newMode = fp.oldMode;
                }
            } else if (l.startsWith("Binary files ")) {
                fp.isBinary = true;
            } else if (l.startsWith("GIT binary patch")) {
                fp.isBinary = true;
                ++m_i;
                while (m_i < m_lines.size() && !line(m_i).startsWith("diff "))
                    ++m_i; // base85 data until the next section
                break;
            } else if (isHeaderPair(m_i)) {
                minus = headerName(l.mid(4));
                plus = headerName(line(m_i + 1).mid(4));
                if (!minus->ok || !plus->ok)
                    return badHeader(l);
                sawHeader = true;
                m_i += 2;
                break;
            } else {
                break;
            }
            ++m_i;
        }

        // Names: rename/copy headers, then ---/+++ (when -p can strip them), then the diff line.
        if (minus && minus->devNull)
            fp.isNew = true;
        if (plus && plus->devNull)
            fp.isDelete = true;
        if (fp.isNew && fp.isDelete)
            return patchError("bad_patch",
                              QStringLiteral("the section at line %1 both creates and deletes "
                                             "a file")
                                  .arg(fp.diffLine),
                              QString(), fp.diffLine);
        auto pick = [&](const std::optional<QString> &extended, const std::optional<HeaderName> &h,
                        const QString &def) {
            if (extended)
                return *extended;
            if (h && !h->devNull) {
                const std::optional<QString> s = stripComponents(h->name, p);
                if (s)
                    return *s;
            }
            return def;
        };
        if (!fp.isNew)
            fp.oldPath = pick(renameFrom, minus, defOld);
        if (!fp.isDelete)
            fp.newPath = pick(renameTo, plus, defNew);
        if ((fp.isRename || fp.isCopy) && (!renameFrom || !renameTo))
            return badHeader(fp.isRename ? "rename without both from and to"
                                         : "copy without both from and to");
        if ((!fp.isNew && fp.oldPath.isEmpty()) || (!fp.isDelete && fp.newPath.isEmpty()))
            return patchError("bad_patch",
                              QStringLiteral("cannot tell which file the section at line %1 is "
                                             "about")
                                  .arg(fp.diffLine),
                              QString(), fp.diffLine);

        const Status hunks = parseHunks(&fp);
        if (!hunks.ok())
            return hunks;
        const bool changesSomething = !fp.hunks.isEmpty() || fp.isNew || fp.isDelete ||
                                      fp.isRename || fp.isCopy || fp.isBinary ||
                                      (fp.oldMode && fp.newMode && *fp.oldMode != *fp.newMode);
        if (!changesSomething)
            return patchError("bad_patch",
                              QStringLiteral("the section for %1 at line %2 has no hunks%3")
                                  .arg(fp.newPath.isEmpty() ? fp.oldPath : fp.newPath)
                                  .arg(fp.diffLine)
                                  .arg(sawHeader ? QString() : QStringLiteral(" and no header")),
                              fp.newPath, fp.diffLine);
        m_patches.append(fp);
        return {};
    }

    Status parseTraditionalSection()
    {
        FilePatch fp;
        fp.diffLine = m_i + 1;
        const HeaderName minus = headerName(line(m_i).mid(4));
        const HeaderName plus = headerName(line(m_i + 1).mid(4));
        if (!minus.ok || !plus.ok)
            return badHeader(line(m_i));
        m_i += 2;
        bool prefixed = false;
        if (!minus.devNull && !plus.devNull)
            prefixed = hasPrefixPair(minus.name, plus.name);
        else if (!minus.devNull)
            prefixed = hasSinglePrefix(minus.name);
        else if (!plus.devNull)
            prefixed = hasSinglePrefix(plus.name);
        const int p = stripFor(prefixed);
        auto strip = [&](const HeaderName &h, QString *out) -> Status {
            if (h.devNull)
                return {};
            const std::optional<QString> s = stripComponents(h.name, p);
            if (!s)
                return patchError(
                    "bad_patch",
                    QStringLiteral("cannot strip %1 leading components from \"%2\" (line %3)")
                        .arg(p)
                        .arg(h.name)
                        .arg(fp.diffLine),
                    h.name, fp.diffLine);
            *out = *s;
            return {};
        };
        Status s = strip(minus, &fp.oldPath);
        if (s.ok())
            s = strip(plus, &fp.newPath);
        if (!s.ok())
            return s;
        if (minus.devNull && plus.devNull)
            return badHeader("both sides are /dev/null");
        s = parseHunks(&fp);
        if (!s.ok())
            return s;
        if (fp.hunks.isEmpty())
            return patchError("bad_patch",
                              QStringLiteral("the section for %1 at line %2 has no hunks")
                                  .arg(fp.newPath.isEmpty() ? fp.oldPath : fp.newPath)
                                  .arg(fp.diffLine),
                              fp.newPath, fp.diffLine);
        const bool onlyAdds = std::all_of(fp.hunks.begin(), fp.hunks.end(),
                                          [](const Hunk &h) { return h.oldCount == 0; });
        const bool onlyRemoves = std::all_of(fp.hunks.begin(), fp.hunks.end(),
                                             [](const Hunk &h) { return h.newCount == 0; });
        fp.isNew = minus.devNull || (minus.epoch && onlyAdds);
        fp.isDelete = plus.devNull || (plus.epoch && onlyRemoves);
        if (fp.isNew)
            fp.oldPath.clear();
        if (fp.isDelete)
            fp.newPath.clear();
        m_patches.append(fp);
        return {};
    }

    // "Binary files a/x and b/x differ" from diff -r: recorded so that apply can refuse it.
    Status parseBinaryNotice()
    {
        static const QRegularExpression re(QStringLiteral("^Binary files (.+) and (.+) differ$"));
        const QRegularExpressionMatch m = re.match(QString::fromUtf8(line(m_i)));
        FilePatch fp;
        fp.diffLine = m_i + 1;
        fp.isBinary = true;
        if (m.hasMatch()) {
            const bool prefixed = hasPrefixPair(m.captured(1), m.captured(2));
            fp.oldPath = stripComponents(m.captured(1), stripFor(prefixed)).value_or(QString());
            fp.newPath = stripComponents(m.captured(2), stripFor(prefixed)).value_or(QString());
        }
        ++m_i;
        m_patches.append(fp);
        return {};
    }

    Status badHeader(const QByteArray &what)
    {
        return patchError("bad_patch",
                          QStringLiteral("malformed file header at line %1: %2")
                              .arg(m_i + 1)
                              .arg(QString::fromUtf8(what.left(120))),
                          QString(), m_i + 1);
    }

    Status parseHunks(FilePatch *fp)
    {
        while (m_i < m_lines.size() && line(m_i).startsWith("@@")) {
            const QByteArray header = line(m_i);
            if (header.startsWith("@@@"))
                return patchError("bad_patch",
                                  QStringLiteral("line %1: combined (merge) diffs are not "
                                                 "supported")
                                      .arg(m_i + 1),
                                  fp->newPath, m_i + 1);
            Hunk h;
            h.diffLine = m_i + 1;
            if (parsePlainHunkHeader(header, &h.oldStart, &h.declaredOldCount, &h.newStart,
                                     &h.declaredNewCount, &h.section) &&
                h.oldStart < (1 << 28) && h.declaredOldCount < (1 << 28) &&
                h.declaredNewCount < (1 << 28)) {
                ++m_i;
                readHunkBody(&h);
                if (h.lines.isEmpty())
                    return emptyHunk(*fp, h);
                fp->hunks.append(h);
                continue;
            }
            static const QRegularExpression re(
                QStringLiteral(R"(^@@\s*-(\d+)(?:,(\d+))?\s+\+(\d+)(?:,(\d+))?\s*@@(.*)$)"));
            const QRegularExpressionMatch m = re.match(QString::fromUtf8(header));
            bool known = false;
            if (m.hasMatch()) {
                bool ok1 = false, ok2 = false, ok3 = true, ok4 = true;
                h.oldStart = m.captured(1).toInt(&ok1);
                h.newStart = m.captured(3).toInt(&ok2);
                h.declaredOldCount = m.captured(2).isEmpty() ? 1 : m.captured(2).toInt(&ok3);
                h.declaredNewCount = m.captured(4).isEmpty() ? 1 : m.captured(4).toInt(&ok4);
                h.section = m.captured(5).trimmed().toUtf8();
                known = ok1 && ok2 && ok3 && ok4 && h.oldStart < (1 << 28) &&
                        h.declaredOldCount < (1 << 28) && h.declaredNewCount < (1 << 28);
            }
            if (!known) {
                // "@@ @@" or "@@ -x +y @@": assistants write these; the search places the hunk.
                h.oldStart = -1;
                h.newStart = -1;
                h.declaredOldCount = -1;
                h.declaredNewCount = -1;
            }
            ++m_i;
            readHunkBody(&h);
            if (h.lines.isEmpty())
                return emptyHunk(*fp, h);
            fp->hunks.append(h);
        }
        return {};
    }

    static Status emptyHunk(const FilePatch &fp, const Hunk &h)
    {
        return patchError("bad_patch",
                          QStringLiteral("hunk %1 of %2 (line %3) has no lines")
                              .arg(fp.hunks.size() + 1)
                              .arg(fp.newPath.isEmpty() ? fp.oldPath : fp.newPath)
                              .arg(h.diffLine),
                          fp.newPath, h.diffLine);
    }

    // The body runs to the next "@@", "diff ", ---/+++ header pair, non-diff text or the end;
    // the header's counts only decide about trailing blank lines and ambiguous "---" lines.
    void readHunkBody(Hunk *h)
    {
        // Collected in a list that keeps its capacity, then copied at its final size: growing
        // each hunk's own list line by line cost more (in page faults) than the parsing.
        QList<HunkLine> &lines = m_hunkLines;
        lines.clear();
        int pendingEmpty = 0;
        auto countsMet = [&] {
            return h->declaredOldCount >= 0 && h->oldCount >= h->declaredOldCount &&
                   h->newCount >= h->declaredNewCount;
        };
        auto push = [&](char kind, QByteArray text, bool cr) {
            HunkLine l;
            l.kind = kind;
            l.text = std::move(text);
            l.cr = cr;
            lines.append(l);
            if (kind != '+')
                ++h->oldCount;
            if (kind != '-')
                ++h->newCount;
        };
        auto flushEmpty = [&] {
            for (; pendingEmpty > 0; --pendingEmpty)
                push(' ', QByteArray(), false);
        };
        while (m_i < m_lines.size()) {
            const QByteArray &raw = m_lines[m_i];
            const QByteArray l = chompCrView(raw);
            if (l.startsWith("@@") || l.startsWith("diff "))
                break;
            if (isHeaderPair(m_i) &&
                (countsMet() || (m_i + 2 < m_lines.size() && line(m_i + 2).startsWith("@@"))))
                break;
            if (l.isEmpty()) {
                ++pendingEmpty;
                ++m_i;
                continue;
            }
            const char c = l[0];
            if (c == '-' && l == "-- " &&
                (m_i + 1 >= m_lines.size() || !isBodyLine(m_lines[m_i + 1])))
                break; // the "-- " signature separator of git format-patch mail
            if (c == ' ' || c == '-' || c == '+') {
                flushEmpty();
                // A view into the diff when borrowing, else a copy of its own.
                push(c,
                     m_borrow ? view(l.constData() + 1, l.size() - 1)
                              : QByteArray(l.constData() + 1, l.size() - 1),
                     raw.endsWith('\r'));
            } else if (c == '\\') {
                flushEmpty();
                if (!lines.isEmpty())
                    lines.last().noNewline = true;
            } else {
                break;
            }
            ++m_i;
        }
        // Trailing blank lines are empty context lines only as far as the header needs them.
        if (pendingEmpty > 0 && h->declaredOldCount >= 0) {
            const int need =
                std::min(h->declaredOldCount - h->oldCount, h->declaredNewCount - h->newCount);
            pendingEmpty = std::clamp(need, 0, pendingEmpty);
            flushEmpty();
        }
        h->lines = QList<HunkLine>(lines.cbegin(), lines.cend());
    }

    UnifiedDiffParser::Options m_options;
    bool m_borrow = false;
    const QList<QByteArray> &m_lines;
    QList<HunkLine> m_hunkLines; // readHunkBody()'s scratch
    int m_i = 0;
    int m_end = 0;
    QList<FilePatch> m_patches;
};

// A diff's lines as views into it; the final "\n" ends the last line, it does not start one.
QList<QByteArray> splitLines(const QByteArray &diff)
{
    QList<QByteArray> lines;
    const char *const data = diff.constData();
    const qsizetype size = diff.size();
    lines.reserve(size / 48 + 16); // a guess: counting them costs more than a regrowth
    for (qsizetype pos = 0; pos < size;) {
        const void *nl = std::memchr(data + pos, '\n', size_t(size - pos));
        const qsizetype end = nl ? static_cast<const char *>(nl) - data : size;
        lines.append(view(data + pos, end - pos));
        pos = end + 1;
    }
    return lines;
}

constexpr int MaxPieces = 8;

Result<QList<FilePatch>> parseDiff(const QByteArray &diff, const UnifiedDiffParser::Options &o,
                                   bool borrow)
{
    const QList<QByteArray> lines = splitLines(diff);
    const int count = int(lines.size());
    // Every "diff --git" line starts a section of its own in one pass too (hunk bodies, extended
    // headers and binary data all end at one), so pieces that begin at such lines parse to the
    // same sections, and the first piece that fails has the error one pass would stop at.
    std::vector<int> starts{0};
    if (count >= std::max(1, o.piecewiseFromLines)) {
        const int step = std::max(1, count / MaxPieces);
        for (int k = step; k < count; ++k) {
            if (chompCrView(lines[k]).startsWith("diff --git ")) {
                starts.push_back(k);
                k += step - 1;
            }
        }
    }
    starts.push_back(count);
    std::vector<std::unique_ptr<Parser>> pieces;
    for (size_t i = 0; i + 1 < starts.size(); ++i)
        pieces.push_back(std::make_unique<Parser>(lines, o, borrow, starts[i], starts[i + 1]));
    std::vector<Status> parsed(pieces.size());
    ParallelFor::run(
        qsizetype(pieces.size()),
        [&](qsizetype i) { parsed[size_t(i)] = pieces[size_t(i)]->run(); }, 1);
    QList<FilePatch> all;
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (!parsed[i].ok())
            return parsed[i].error();
        if (pieces[i]->position() > starts[i + 1]) {
            // A section read on into the next piece (which the reasoning above rules out): in
            // one pass after all, rather than a section twice.
            Parser whole(lines, o, borrow, 0, count);
            if (Status s = whole.run(); !s.ok())
                return s.error();
            all = std::move(whole.patches());
            break;
        }
        all += std::move(pieces[i]->patches());
    }
    if (all.isEmpty())
        return patchError("bad_patch",
                          QStringLiteral("the patch contains no file sections (no \"diff "
                                         "--git\" line and no \"---\"/\"+++\" header pair)"));
    return all;
}

// ---------------------------------------------------------------------------------------------
// Applying hunks to one file's lines

struct FileLines
{
    // Views into the file's contents and the diff, which outlive the FileLines (no copies).
    QList<QByteArray> texts; // without line endings
    QList<QByteArray> eols;  // "\n", "\r\n", or "" for a last line without one
    bool eofNoNewline = false;
    QByteArray style; // the dominant line ending; empty when the file has no lines

    static FileLines split(const QByteArray &contents)
    {
        FileLines f;
        int crlf = 0;
        int lf = 0;
        const char *const data = contents.constData();
        const qsizetype size = contents.size();
        const qsizetype expected = size / 32 + 16; // a guess: counting costs more than a regrowth
        f.texts.reserve(expected);
        f.eols.reserve(expected);
        qsizetype pos = 0;
        while (pos < size) {
            const void *found = std::memchr(data + pos, '\n', size_t(size - pos));
            if (!found) {
                f.texts.append(view(data + pos, size - pos));
                f.eols.append(QByteArray());
                break;
            }
            const qsizetype nl = static_cast<const char *>(found) - data;
            if (nl > pos && data[nl - 1] == '\r') {
                f.texts.append(view(data + pos, nl - 1 - pos));
                f.eols.append(QByteArrayLiteral("\r\n"));
                ++crlf;
            } else {
                f.texts.append(view(data + pos, nl - pos));
                f.eols.append(QByteArrayLiteral("\n"));
                ++lf;
            }
            pos = nl + 1;
        }
        f.eofNoNewline = size > 0 && data[size - 1] != '\n';
        if (crlf + lf > 0)
            f.style = crlf > lf ? QByteArrayLiteral("\r\n") : QByteArrayLiteral("\n");
        return f;
    }

    // Puts replacement (texts and eols) where count lines stood at pos, in place.
    void replace(qsizetype pos, qsizetype count, const QList<QByteArray> &newTexts,
                 const QList<QByteArray> &newEols)
    {
        const qsizetype common = std::min(count, newTexts.size());
        for (qsizetype i = 0; i < common; ++i) {
            texts[pos + i] = newTexts[i];
            eols[pos + i] = newEols[i];
        }
        if (count > common) {
            texts.remove(pos + common, count - common);
            eols.remove(pos + common, count - common);
        } else if (newTexts.size() > common) {
            const qsizetype extra = newTexts.size() - common;
            texts.insert(pos + common, extra, QByteArray());
            eols.insert(pos + common, extra, QByteArray());
            for (qsizetype i = common; i < newTexts.size(); ++i) {
                texts[pos + i] = newTexts[i];
                eols[pos + i] = newEols[i];
            }
        }
    }

    QByteArray join() const
    {
        const QByteArray fallback = style.isEmpty() ? QByteArrayLiteral("\n") : style;
        qsizetype total = 0;
        for (int i = 0; i < texts.size(); ++i)
            total += texts[i].size() + std::max<qsizetype>(eols[i].size(), fallback.size());
        QByteArray out;
        out.reserve(total);
        for (int i = 0; i < texts.size(); ++i) {
            out += texts[i];
            const bool last = i + 1 == texts.size();
            if (last && eofNoNewline)
                break;
            out += eols[i].isEmpty() ? fallback : eols[i];
        }
        return out;
    }
};

QString signedNumber(int n)
{
    return n > 0 ? QStringLiteral("+%1").arg(n) : QString::number(n);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// UnifiedDiffParser

bool UnifiedDiffParser::looksLike(const QByteArray &text)
{
    const QList<QByteArray> lines = text.split('\n');
    for (int i = 0; i < lines.size(); ++i) {
        const QByteArray l = chompCr(lines[i]);
        if (l.startsWith("*** Begin Patch"))
            return false; // the apply_patch format also has "@@" lines; it is not ours
        if (l.startsWith("diff --git "))
            return true;
        if (l.startsWith("--- ") && i + 1 < lines.size() &&
            chompCr(lines[i + 1]).startsWith("+++ "))
            return true;
    }
    return false;
}

Result<QList<FilePatch>> UnifiedDiffParser::parse(const QByteArray &diff, const Options &o)
{
    return parseDiff(diff, o, false);
}

Status UnifiedDiffParser::apply(const QByteArray &diff, StagedTree &tree, const Options &o)
{
    // The patches' lines point into diff, which lives until this returns.
    const Result<QList<FilePatch>> patches = parseDiff(diff, o, true);
    if (!patches.ok())
        return patches.error();
    return apply(patches.value(), tree);
}

Result<QByteArray> UnifiedDiffParser::applyHunks(const QByteArray &contents,
                                                 const QList<Hunk> &hunks,
                                                 const QString &displayPath, QStringList *notes)
{
    FileLines f = FileLines::split(contents);
    int delta = 0;      // lines added minus removed by the hunks so far
    int lastOffset = 0; // how far the previous hunk landed from its stated place
    int previousEnd = 0;
    for (int k = 0; k < hunks.size(); ++k) {
        const Hunk &h = hunks[k];
        const QList<QByteArray> oldLines = h.oldLines();
        const bool numbered = h.oldStart >= 0;
        int stated = previousEnd;
        if (numbered)
            stated = (h.oldCount == 0 && h.declaredOldCount == 0 ? h.oldStart
                                                                 : std::max(0, h.oldStart - 1)) +
                     delta;
        HunkMatcher::Options mo;
        const int leading = h.leadingContext();
        const int trailing = h.trailingContext();
        mo.anchorStart = numbered && leading == 0 && trailing > 0 && h.oldStart <= 1;
        mo.anchorEnd = trailing == 0 && leading > 0;
        const int expected = numbered ? stated + lastOffset : stated;
        const HunkMatcher::Match m = HunkMatcher::find(f.texts, oldLines, expected, mo);
        if (!m.found) {
            const HunkMatcher::NearMiss miss = HunkMatcher::nearMiss(f.texts, oldLines, expected);
            const int near = miss.line > 0 ? miss.line : std::max(1, expected + 1);
            Error e = makeError(QStringLiteral("hunk_failed"),
                                QStringLiteral("hunk %1 of %2 did not match near line %3")
                                    .arg(k + 1)
                                    .arg(displayPath)
                                    .arg(near));
            e.file = displayPath;
            e.hunk = k + 1;
            e.line = miss.line;
            e.detail = miss.detail;
            return e;
        }
        if (notes) {
            if (numbered && (h.declaredOldCount != h.oldCount || h.declaredNewCount != h.newCount))
                notes->append(QStringLiteral("hunk %1 of %2: the header says -%3,%4 +%5,%6 but the "
                                             "body has %7 old and %8 new lines; used the body")
                                  .arg(k + 1)
                                  .arg(displayPath)
                                  .arg(h.oldStart)
                                  .arg(h.declaredOldCount)
                                  .arg(h.newStart)
                                  .arg(h.declaredNewCount)
                                  .arg(h.oldCount)
                                  .arg(h.newCount));
            const int offset = m.position - stated;
            QStringList how;
            if (m.fuzz == HunkMatcher::Fuzz::Whitespace)
                how << QStringLiteral("ignoring whitespace");
            if (numbered && offset != 0)
                how << QStringLiteral("at offset %1").arg(signedNumber(offset));
            if (!how.isEmpty())
                notes->append(QStringLiteral("hunk %1 of %2 applied %3 (line %4)")
                                  .arg(k + 1)
                                  .arg(displayPath, how.join(QStringLiteral(", ")))
                                  .arg(m.position + 1));
        }

        const int pos = m.position;
        const int n = int(oldLines.size());
        const bool atEof = pos + n == f.texts.size();
        QList<QByteArray> texts;
        QList<QByteArray> eols;
        texts.reserve(h.newCount);
        eols.reserve(h.newCount);
        int oldIndex = 0;
        for (const HunkLine &l : h.lines) {
            if (l.kind == ' ') {
                // Context keeps the file's own text: whitespace-insensitive matches change nothing.
                texts.append(f.texts[pos + oldIndex]);
                eols.append(f.eols[pos + oldIndex]);
                ++oldIndex;
            } else if (l.kind == '-') {
                ++oldIndex;
            } else {
                texts.append(l.text);
                eols.append(!f.style.isEmpty() ? f.style
                            : l.cr             ? QByteArrayLiteral("\r\n")
                                               : QByteArrayLiteral("\n"));
            }
        }
        // At the end of the file the hunk decides about the final newline, unless it ends in
        // context (then it does not mean to change it, even if it forgot the marker).
        if (atEof && !h.lines.isEmpty() && h.lines.last().kind != ' ')
            f.eofNoNewline = h.newEndsWithoutNewline();
        f.replace(pos, n, texts, eols);
        if (f.texts.isEmpty())
            f.eofNoNewline = false;
        if (f.style.isEmpty() && !f.eols.isEmpty())
            f.style = f.eols.first().isEmpty() ? QByteArrayLiteral("\n") : f.eols.first();
        if (numbered)
            lastOffset = m.position - stated;
        delta += h.newCount - h.oldCount;
        previousEnd = pos + int(texts.size());
    }
    return f.join();
}

namespace {

bool isUnsupportedType(const std::optional<int> &mode)
{
    if (!mode)
        return false;
    const int type = *mode & 0170000;
    return type != 0 && type != 0100000;
}

Error fileError(const QString &code, const QString &message, const QString &file)
{
    Error e = makeError(code, message);
    e.file = file;
    return e;
}

// Writes mode bits when a git header asks for other permissions than the file has.
void applyMode(StagedTree &tree, const QString &path, const FilePatch &fp, int currentMode)
{
    if (!fp.newMode || (fp.oldMode && *fp.oldMode == *fp.newMode))
        return; // no mode, or only the informational one of an "index" line
    const int perm = *fp.newMode & 07777;
    if (perm != currentMode)
        tree.setMode(path, perm);
}

} // namespace

namespace {

// A section's paths, normalized up front (an error is still reported in its turn), and for a
// plain modification of a file no other section names, its hunks applied ahead of its turn:
// the result depends on nothing but the file as it is.
struct Section
{
    std::optional<Result<QString>> oldPath;
    std::optional<Result<QString>> newPath;
    bool plain = false;
    bool computed = false;
    FileState current;
    std::optional<Result<QByteArray>> contents;
    StagedTree::LineCounts counts; // contents against current, counted with them
    QStringList notes;
};

// Sections computed ahead at a time: enough to keep the threads busy, few enough that their
// files are not all in memory at once.
constexpr qsizetype AheadBatch = 256;

} // namespace

Status UnifiedDiffParser::apply(const QList<FilePatch> &patches, StagedTree &tree)
{
    std::vector<Section> sections(size_t(patches.size()));
    QHash<QString, int> timesNamed;
    for (qsizetype i = 0; i < patches.size(); ++i) {
        const FilePatch &fp = patches[i];
        Section &sec = sections[size_t(i)];
        if (!fp.oldPath.isEmpty())
            sec.oldPath = tree.normalize(fp.oldPath);
        if (!fp.newPath.isEmpty())
            sec.newPath = fp.newPath == fp.oldPath ? sec.oldPath : tree.normalize(fp.newPath);
        if (sec.oldPath && sec.oldPath->ok())
            ++timesNamed[sec.oldPath->value()];
        if (sec.newPath && sec.newPath->ok() &&
            !(sec.oldPath && sec.oldPath->ok() && sec.oldPath->value() == sec.newPath->value()))
            ++timesNamed[sec.newPath->value()];
        sec.plain = !fp.isBinary && !isUnsupportedType(fp.oldMode) &&
                    !isUnsupportedType(fp.newMode) && !fp.isNew && !fp.isDelete && !fp.isRename &&
                    !fp.isCopy && !fp.hunks.isEmpty() && sec.oldPath && sec.oldPath->ok() &&
                    sec.newPath && sec.newPath->ok() &&
                    sec.oldPath->value() == sec.newPath->value();
    }
    for (Section &sec : sections)
        sec.plain = sec.plain && timesNamed.value(sec.oldPath->value()) == 1;

    for (qsizetype i = 0; i < patches.size(); ++i) {
        if (i % AheadBatch == 0) {
            // The next batch's plain sections: read here (the workspace is not for threads),
            // hunks applied on several threads.
            const qsizetype end = std::min(patches.size(), i + AheadBatch);
            QStringList toRead;
            for (qsizetype k = i; k < end; ++k) {
                if (sections[size_t(k)].plain)
                    toRead.append(sections[size_t(k)].oldPath->value());
            }
            tree.prefetch(toRead);
            std::vector<qsizetype> ahead;
            for (qsizetype k = i; k < end; ++k) {
                Section &sec = sections[size_t(k)];
                if (!sec.plain)
                    continue;
                const Result<FileState> current = tree.read(sec.oldPath->value());
                if (!current.ok() || !current->exists)
                    continue; // in its turn, like any other section
                sec.current = *current;
                sec.computed = true;
                ahead.push_back(k);
            }
            ParallelFor::run(
                qsizetype(ahead.size()),
                [&](qsizetype a) {
                    const qsizetype k = ahead[size_t(a)];
                    Section &sec = sections[size_t(k)];
                    sec.contents = applyHunks(sec.current.contents, patches.at(k).hunks,
                                              sec.oldPath->value(), &sec.notes);
                    if (sec.contents->ok())
                        countChangedLines(sec.current.contents, sec.contents->value(),
                                          &sec.counts.added, &sec.counts.removed);
                },
                16);
        }
        const FilePatch &fp = patches[i];
        Section &sec = sections[size_t(i)];
        if (sec.computed) {
            const QString &path = sec.oldPath->value();
            tree.notes() += sec.notes;
            if (!sec.contents->ok())
                return sec.contents->error();
            if (sec.contents->value() != sec.current.contents)
                tree.write(path, sec.contents->value(), sec.counts);
            applyMode(tree, path, fp, sec.current.mode);
            sec = Section(); // its memory is not needed any more
            continue;
        }
        const QString named = fp.newPath.isEmpty() ? fp.oldPath : fp.newPath;
        if (fp.isBinary)
            return fileError(QStringLiteral("unsupported_binary"),
                             QStringLiteral("the patch changes the binary file %1; binary "
                                            "patches are not supported")
                                 .arg(named),
                             named);
        if (isUnsupportedType(fp.oldMode) || isUnsupportedType(fp.newMode))
            return fileError(QStringLiteral("unsupported_file_type"),
                             QStringLiteral("the patch makes %1 a symlink or submodule; only "
                                            "regular files are supported")
                                 .arg(named),
                             named);
        QString oldPath;
        QString newPath;
        if (sec.oldPath) {
            if (!sec.oldPath->ok())
                return sec.oldPath->error();
            oldPath = sec.oldPath->value();
        }
        if (sec.newPath) {
            if (!sec.newPath->ok())
                return sec.newPath->error();
            newPath = sec.newPath->value();
        }

        if (fp.isNew) {
            if (tree.exists(newPath))
                return fileError(QStringLiteral("file_exists"),
                                 QStringLiteral("cannot create %1: it already exists").arg(newPath),
                                 newPath);
            const Result<QByteArray> contents =
                applyHunks(QByteArray(), fp.hunks, newPath, &tree.notes());
            if (!contents.ok())
                return contents.error();
            tree.write(newPath, contents.value());
            applyMode(tree, newPath, fp, 0644);
            continue;
        }

        if (fp.isDelete) {
            const Result<FileState> current = tree.read(oldPath);
            if (!current.ok())
                return current.error();
            if (!current->exists)
                return fileError(QStringLiteral("file_not_found"),
                                 QStringLiteral("cannot delete %1: it does not exist").arg(oldPath),
                                 oldPath);
            const Result<QByteArray> left =
                applyHunks(current->contents, fp.hunks, oldPath, &tree.notes());
            if (!left.ok())
                return left.error();
            if (!left->isEmpty()) {
                Error e = fileError(QStringLiteral("hunk_failed"),
                                    QStringLiteral("cannot delete %1: the patch does not remove "
                                                   "all of its contents")
                                        .arg(oldPath),
                                    oldPath);
                const FileLines rest = FileLines::split(left.value());
                e.detail = QStringLiteral("%1 line(s) would remain, the first being \"%2\"")
                               .arg(rest.texts.size())
                               .arg(QString::fromUtf8(rest.texts.value(0).left(80)));
                e.hunk = fp.hunks.isEmpty() ? 0 : 1;
                return e;
            }
            tree.remove(oldPath);
            continue;
        }

        QString target = newPath;
        if (fp.isRename || fp.isCopy) {
            const Result<FileState> source = tree.read(oldPath);
            if (!source.ok())
                return source.error();
            if (!source->exists)
                return fileError(
                    QStringLiteral("file_not_found"),
                    QStringLiteral("cannot %1 %2: it does not exist")
                        .arg(fp.isRename ? QStringLiteral("rename") : QStringLiteral("copy"),
                             oldPath),
                    oldPath);
            if (newPath != oldPath) {
                if (tree.exists(newPath))
                    return fileError(
                        QStringLiteral("file_exists"),
                        QStringLiteral("cannot %1 %2 to %3: %3 already exists")
                            .arg(fp.isRename ? QStringLiteral("rename") : QStringLiteral("copy"),
                                 oldPath, newPath),
                        newPath);
                if (fp.isRename) {
                    const Status moved = tree.rename(oldPath, newPath);
                    if (!moved.ok())
                        return moved;
                } else {
                    tree.write(newPath, source->contents);
                    if (source->mode != 0644)
                        tree.setMode(newPath, source->mode);
                }
            }
        } else if (!fp.isGit && !oldPath.isEmpty() && oldPath != newPath) {
            // Traditional "--- file.orig / +++ file": patch whichever of the two exists.
            if (!tree.exists(newPath) && tree.exists(oldPath))
                target = oldPath;
        }

        const Result<FileState> current = tree.read(target);
        if (!current.ok())
            return current.error();
        if (!current->exists) {
            // Assistants write "--- a/new.py / +++ b/new.py / @@ -0,0 +1,N @@" for new files.
            const bool createsFromNothing =
                !fp.hunks.isEmpty() &&
                std::all_of(fp.hunks.begin(), fp.hunks.end(),
                            [](const Hunk &h) { return h.oldCount == 0 && h.oldStart <= 0; });
            if (!createsFromNothing)
                return fileError(QStringLiteral("file_not_found"),
                                 QStringLiteral("cannot patch %1: it does not exist").arg(target),
                                 target);
            tree.notes().append(
                QStringLiteral("%1 did not exist; created it, as the patch only adds lines")
                    .arg(target));
        }
        if (!fp.hunks.isEmpty()) {
            const Result<QByteArray> contents =
                applyHunks(current->contents, fp.hunks, target, &tree.notes());
            if (!contents.ok())
                return contents.error();
            if (!current->exists || contents.value() != current->contents)
                tree.write(target, contents.value());
        }
        applyMode(tree, target, fp, current->exists ? current->mode : 0644);
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// --stat --summary

namespace {

// git's quote_c_style: names with control characters, quotes, backslashes or non-ASCII bytes
// are shown C-quoted.
QString cQuoted(const QString &name)
{
    const QByteArray bytes = name.toUtf8();
    bool needs = false;
    for (const char c : bytes) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\')
            needs = true;
    }
    if (!needs)
        return name;
    QString out = QStringLiteral("\"");
    for (const char c : bytes) {
        const unsigned char u = static_cast<unsigned char>(c);
        switch (c) {
        case '\a':
            out += QStringLiteral("\\a");
            break;
        case '\b':
            out += QStringLiteral("\\b");
            break;
        case '\t':
            out += QStringLiteral("\\t");
            break;
        case '\n':
            out += QStringLiteral("\\n");
            break;
        case '\v':
            out += QStringLiteral("\\v");
            break;
        case '\f':
            out += QStringLiteral("\\f");
            break;
        case '\r':
            out += QStringLiteral("\\r");
            break;
        case '"':
            out += QStringLiteral("\\\"");
            break;
        case '\\':
            out += QStringLiteral("\\\\");
            break;
        default:
            if (u < 0x20 || u >= 0x7f)
                out += QStringLiteral("\\%1").arg(u, 3, 8, QLatin1Char('0'));
            else
                out += QLatin1Char(c);
        }
    }
    return out + QLatin1Char('"');
}

QString octalMode(int mode)
{
    return QString::number(mode, 8).rightJustified(6, QLatin1Char('0'));
}

QString modeChange(const FilePatch &p, bool withName)
{
    if (!p.oldMode || !p.newMode || *p.oldMode == *p.newMode)
        return QString();
    QString s =
        QStringLiteral(" mode change %1 => %2").arg(octalMode(*p.oldMode), octalMode(*p.newMode));
    if (withName)
        s += QLatin1Char(' ') + p.newPath;
    return s + QLatin1Char('\n');
}

} // namespace

QString UnifiedDiffParser::summary(const QList<FilePatch> &patches)
{
    // The stat block, column for column like git apply --stat (apply.c: show_stats).
    int maxLen = 0;
    int maxChange = 0;
    for (const FilePatch &p : patches) {
        maxChange = std::max(maxChange, p.added() + p.removed());
        for (const QString &name : {p.oldPath, p.newPath}) {
            if (!name.isEmpty())
                maxLen = std::max(maxLen, int(cQuoted(name).size()));
        }
    }
    QString out;
    int adds = 0;
    int dels = 0;
    for (const FilePatch &p : patches) {
        QString name = cQuoted(p.newPath.isEmpty() ? p.oldPath : p.newPath);
        const int width = std::min(maxLen, 50);
        if (name.size() > width) {
            const int cut = int(name.size()) + 3 - width;
            int slash = int(name.indexOf(QLatin1Char('/'), cut));
            if (slash < 0)
                slash = cut;
            name = QStringLiteral("...") + name.mid(slash);
        }
        adds += p.added();
        dels += p.removed();
        if (p.isBinary) {
            out += QStringLiteral(" %1 |  Bin\n").arg(name.leftJustified(width));
            continue;
        }
        const int graphWidth = width + maxChange > 70 ? 70 - width : maxChange;
        int add = p.added();
        int del = p.removed();
        if (maxChange > 0) {
            const int total = ((add + del) * graphWidth + maxChange / 2) / maxChange;
            add = (add * graphWidth + maxChange / 2) / maxChange;
            del = total - add;
        }
        out += QStringLiteral(" %1 |%2 %3%4\n")
                   .arg(name.leftJustified(width))
                   .arg(p.added() + p.removed(), 5)
                   .arg(QString(add, QLatin1Char('+')), QString(del, QLatin1Char('-')));
    }
    const int files = int(patches.size());
    out += files == 1 ? QStringLiteral(" 1 file changed")
                      : QStringLiteral(" %1 files changed").arg(files);
    if (adds || dels == 0)
        out += adds == 1 ? QStringLiteral(", 1 insertion(+)")
                         : QStringLiteral(", %1 insertions(+)").arg(adds);
    if (dels || adds == 0)
        out += dels == 1 ? QStringLiteral(", 1 deletion(-)")
                         : QStringLiteral(", %1 deletions(-)").arg(dels);
    out += QLatin1Char('\n');

    // The summary block (apply.c: summary_patch_list).
    for (const FilePatch &p : patches) {
        if (p.isNew) {
            out +=
                p.newMode
                    ? QStringLiteral(" create mode %1 %2\n").arg(octalMode(*p.newMode), p.newPath)
                    : QStringLiteral(" create %1\n").arg(p.newPath);
        } else if (p.isDelete) {
            out +=
                p.oldMode
                    ? QStringLiteral(" delete mode %1 %2\n").arg(octalMode(*p.oldMode), p.oldPath)
                    : QStringLiteral(" delete %1\n").arg(p.oldPath);
        } else if (p.isRename || p.isCopy) {
            const QString what = p.isRename ? QStringLiteral("rename") : QStringLiteral("copy");
            const int score = std::max(0, p.similarity);
            // Factor out the common leading directories: "dir/{a => b}".
            int common = 0;
            for (;;) {
                const int so = int(p.oldPath.indexOf(QLatin1Char('/'), common));
                const int sn = int(p.newPath.indexOf(QLatin1Char('/'), common));
                if (so < 0 || sn < 0 || so != sn || p.oldPath.left(so) != p.newPath.left(sn))
                    break;
                common = so + 1;
            }
            if (common > 0)
                out += QStringLiteral(" %1 %2{%3 => %4} (%5%)\n")
                           .arg(what, p.oldPath.left(common), p.oldPath.mid(common),
                                p.newPath.mid(common))
                           .arg(score);
            else
                out += QStringLiteral(" %1 %2 => %3 (%4%)\n")
                           .arg(what, p.oldPath, p.newPath)
                           .arg(score);
            out += modeChange(p, false);
        } else if (p.dissimilarity > 0 || p.similarity > 0) {
            out += QStringLiteral(" rewrite %1 (%2%)\n")
                       .arg(p.newPath)
                       .arg(p.dissimilarity > 0 ? p.dissimilarity : p.similarity);
            out += modeChange(p, false);
        } else {
            out += modeChange(p, true);
        }
    }
    return out;
}
