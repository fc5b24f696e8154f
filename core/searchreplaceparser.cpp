#include "searchreplaceparser.h"

#include "hunkmatcher.h"

#include <QByteArrayView>
#include <QHash>
#include <algorithm>
#include <optional>

namespace {

// ---------------------------------------------------------------------------------------------
// Reading the patch

QByteArray chompCr(const QByteArray &line)
{
    return line.endsWith('\r') ? line.left(line.size() - 1) : line;
}

bool isBlank(QByteArrayView line)
{
    return line.trimmed().isEmpty();
}

enum class Marker { None, Search, Divider, Replace };

// aider's markers: 5 to 9 '<', '=' or '>', surrounding whitespace allowed, text after REPLACE.
Marker markerOf(const QByteArray &line)
{
    const QByteArray t = line.trimmed();
    const char c = t.isEmpty() ? '\0' : t[0];
    if (c != '<' && c != '=' && c != '>')
        return Marker::None;
    qsizetype run = 0;
    while (run < t.size() && t[run] == c)
        ++run;
    if (run < 5 || run > 9)
        return Marker::None;
    const QByteArray word = t.mid(run).trimmed();
    if (c == '<' && (word == "SEARCH" || word == "SEARCH>"))
        return Marker::Search;
    if (c == '=' && word.isEmpty())
        return Marker::Divider;
    if (c == '>' && word.startsWith("REPLACE"))
        return Marker::Replace;
    return Marker::None;
}

bool isFence(const QByteArray &line)
{
    const QByteArray t = line.trimmed();
    return t.startsWith("```") || t.startsWith("~~~");
}

// "### **`src/app.py`**:" -> "src/app.py": the decoration assistants put around a path line.
QString stripDecoration(QString name)
{
    for (QString before; before != name;) {
        before = name;
        name = name.trimmed();
        while (name.startsWith(QLatin1Char('#')) || name.startsWith(QLatin1Char('*')))
            name.remove(0, 1);
        while (name.endsWith(QLatin1Char('*')))
            name.chop(1);
        if (name.endsWith(QLatin1Char(':')))
            name.chop(1);
        if (name.startsWith(QLatin1Char('`')))
            name.remove(0, 1);
        if (name.endsWith(QLatin1Char('`')))
            name.chop(1);
    }
    return name;
}

// The path a line outside the blocks names, or "" when the line is prose: prose has spaces (a
// path with spaces must be in backticks), ends a sentence, has no letter or digit ("---"), or is
// a bare word with a colon ("Then:"; "app.py:" and "`Makefile`:" are paths).
QString pathIn(const QByteArray &line)
{
    const QString raw = QString::fromUtf8(line).trimmed();
    const QString name = stripDecoration(raw);
    if (name.isEmpty() || name.contains(QLatin1Char('`')) ||
        QStringLiteral(".!?,;").contains(name.back()))
        return QString();
    if (std::none_of(name.begin(), name.end(), [](QChar c) { return c.isLetterOrNumber(); }))
        return QString();
    const bool quoted = raw.contains(QLatin1Char('`') + name + QLatin1Char('`'));
    if (!quoted && std::any_of(name.begin(), name.end(), [](QChar c) { return c.isSpace(); }))
        return QString();
    const bool wordWithColon = raw.endsWith(QLatin1Char(':')) && !name.contains(QLatin1Char('.')) &&
                               !name.contains(QLatin1Char('/'));
    if (wordWithColon && !quoted)
        return QString();
    return name;
}

Error patchError(int line, const QString &message)
{
    Error e = makeError(QStringLiteral("bad_patch"), message);
    e.line = line;
    return e;
}

class Parser
{
public:
    explicit Parser(const QByteArray &text, QString defaultPath) : m_default(std::move(defaultPath))
    {
        m_lines = text.split('\n');
        if (!m_lines.isEmpty() && m_lines.last().isEmpty())
            m_lines.removeLast(); // the final "\n" ends the last line; it does not start one
        for (QByteArray &l : m_lines)
            l = chompCr(l);
    }

    Result<QList<SearchReplaceBlock>> run()
    {
        QString candidate;           // the nearest path line since the previous block
        QString current = m_default; // the previous block's file (at first the envelope's
                                     // target_file), which a block without a path continues
        for (m_i = 0; m_i < m_lines.size(); ++m_i) {
            const QByteArray &l = m_lines[m_i];
            const Marker m = markerOf(l);
            if (m == Marker::Search) {
                const Status s = readBlock(candidate.isEmpty() ? current : candidate);
                if (!s.ok())
                    return s.error();
                current = m_blocks.last().path;
                candidate.clear();
            } else if (m == Marker::Replace) {
                return patchError(m_i + 1, QStringLiteral("line %1: \">>>>>>> REPLACE\" has no "
                                                          "\"<<<<<<< SEARCH\" before it")
                                               .arg(m_i + 1));
            } else if (m == Marker::None && !isFence(l)) {
                const QString path = pathIn(l);
                if (!path.isEmpty())
                    candidate = path; // a "=======" outside a block is a markdown rule: prose
            }
        }
        if (m_blocks.isEmpty())
            return patchError(0, QStringLiteral("the patch has no \"<<<<<<< SEARCH\" block"));
        return m_blocks;
    }

private:
    // Reads the block whose "<<<<<<< SEARCH" is at m_i; leaves m_i on its "REPLACE" line.
    Status readBlock(const QString &path)
    {
        SearchReplaceBlock b;
        b.path = path;
        b.patchLine = m_i + 1;
        if (path.isEmpty())
            return patchError(b.patchLine, QStringLiteral("line %1: the block names no file; put "
                                                          "its path on the line before "
                                                          "\"<<<<<<< SEARCH\"")
                                               .arg(b.patchLine));
        bool inReplace = false;
        for (++m_i; m_i < m_lines.size(); ++m_i) {
            const QByteArray &l = m_lines[m_i];
            const Marker m = markerOf(l);
            if (m == Marker::Divider && !inReplace) {
                inReplace = true;
            } else if (m == Marker::Replace && inReplace) {
                m_blocks.append(b);
                return {};
            } else if (m == Marker::Replace || m == Marker::Search) {
                return patchError(b.patchLine, QStringLiteral("line %1: the block has no \"%2\" "
                                                              "before line %3")
                                                   .arg(b.patchLine)
                                                   .arg(missing(inReplace))
                                                   .arg(m_i + 1));
            } else {
                (inReplace ? b.replace : b.search).append(l);
            }
        }
        return patchError(b.patchLine, QStringLiteral("line %1: the block has no \"%2\" before "
                                                      "the end of the patch")
                                           .arg(b.patchLine)
                                           .arg(missing(inReplace)));
    }

    static QString missing(bool inReplace)
    {
        return inReplace ? QStringLiteral(">>>>>>> REPLACE") : QStringLiteral("=======");
    }

    QList<QByteArray> m_lines;
    QString m_default;
    int m_i = 0;
    QList<SearchReplaceBlock> m_blocks;
};

// ---------------------------------------------------------------------------------------------
// Matching

// A file's bytes seen as lines: what matching compares (texts, without "\n" or "\r\n") and where
// each line starts, so that an edit splices bytes and leaves every other line exactly as it was.
struct FileView
{
    QList<QByteArray> texts;
    QList<qsizetype> starts; // one more than texts: the last is the file's size
    QByteArray eol = "\n";   // the dominant line ending, for the lines a block inserts

    explicit FileView(const QByteArray &bytes)
    {
        int crlf = 0;
        int lf = 0;
        for (qsizetype pos = 0; pos < bytes.size();) {
            starts.append(pos);
            const qsizetype nl = bytes.indexOf('\n', pos);
            const qsizetype end = nl < 0 ? bytes.size() : nl;
            texts.append(chompCr(bytes.mid(pos, end - pos)));
            if (nl >= 0)
                ++(end > pos && bytes[end - 1] == '\r' ? crlf : lf);
            pos = end + 1;
        }
        starts.append(bytes.size());
        if (crlf > lf)
            eol = "\r\n";
    }
};

qsizetype indentLength(QByteArrayView line)
{
    qsizetype n = 0;
    while (n < line.size() && (line[n] == ' ' || line[n] == '\t'))
        ++n;
    return n;
}

QByteArrayView withoutTrailingSpace(QByteArrayView s)
{
    qsizetype n = s.size();
    while (n > 0 && QByteArrayView(" \t\v\f\r").contains(s[n - 1]))
        --n;
    return s.first(n);
}

int columns(QByteArrayView indent, int tabWidth)
{
    int col = 0;
    for (const char c : indent)
        col = c == '\t' ? (col / tabWidth + 1) * tabWidth : col + 1;
    return col;
}

// "4 spaces", "1 tab", "1 tab and 2 spaces".
QString whitespaceName(const QByteArray &ws)
{
    const auto tabs = ws.count('\t');
    const auto spaces = ws.size() - tabs;
    QStringList parts;
    if (tabs)
        parts << (tabs == 1 ? QStringLiteral("1 tab") : QStringLiteral("%1 tabs").arg(tabs));
    if (spaces)
        parts << (spaces == 1 ? QStringLiteral("1 space")
                              : QStringLiteral("%1 spaces").arg(spaces));
    return parts.join(QStringLiteral(" and "));
}

// The indentation of one non-blank SEARCH line and of the file line it was compared with.
struct IndentPair
{
    QByteArrayView file;
    QByteArrayView search;
};

// How a place's indentation differs from the SEARCH text's: so are the REPLACE lines re-indented.
struct Reindent
{
    enum class Kind { None, Prefix, Columns };
    Kind kind = Kind::None;
    QByteArray prefix; // Prefix: what the file has before each SEARCH line's indentation (grow),
    bool grow = true;  // or what each SEARCH line has before the file's (!grow)
    int shift = 0;     // Columns: how many columns deeper the file is indented
    int tabWidth = 4;
    bool tabs = false; // Columns: the file indents with tabs

    QByteArray apply(const QByteArray &line) const
    {
        if (kind == Kind::None || isBlank(line))
            return line;
        const qsizetype n = indentLength(line);
        if (kind == Kind::Prefix) {
            if (grow)
                return prefix + line;
            return line.startsWith(prefix) ? line.mid(prefix.size()) : line.mid(n);
        }
        const int col = std::max(0, columns(QByteArrayView(line).first(n), tabWidth) + shift);
        const QByteArray indent =
            tabs ? QByteArray(col / tabWidth, '\t') + QByteArray(col % tabWidth, ' ')
                 : QByteArray(col, ' ');
        return indent + line.mid(n);
    }

    QString describe() const
    {
        if (kind == Kind::Prefix)
            return QStringLiteral("indentation adjusted by %1%2")
                .arg(grow ? QStringLiteral("+") : QStringLiteral("-"), whitespaceName(prefix));
        if (kind == Kind::None)
            return QString();
        QString s = QStringLiteral("tabs and spaces converted (tab width %1)").arg(tabWidth);
        if (shift != 0)
            s += QStringLiteral(" and indentation adjusted by %1%2 columns")
                     .arg(shift > 0 ? QStringLiteral("+") : QString(), QString::number(shift));
        return s;
    }

    // The file's indentation is the SEARCH text's with the same whitespace added or removed in
    // front of every line.
    static std::optional<Reindent> byPrefix(const QList<IndentPair> &pairs)
    {
        Reindent r;
        r.kind = Kind::Prefix;
        const IndentPair &first = pairs.first();
        r.grow = first.file.endsWith(first.search);
        if (!r.grow && !first.search.endsWith(first.file))
            return std::nullopt;
        const QByteArrayView longer = r.grow ? first.file : first.search;
        const QByteArrayView shorter = r.grow ? first.search : first.file;
        r.prefix = longer.first(longer.size() - shorter.size()).toByteArray();
        for (const IndentPair &p : pairs) {
            const QByteArrayView a = r.grow ? p.file : p.search;
            const QByteArrayView b = r.grow ? p.search : p.file;
            if (a.size() != r.prefix.size() + b.size() || !a.startsWith(r.prefix) || !a.endsWith(b))
                return std::nullopt;
        }
        return r;
    }

    // The same, in columns, with tabs counted at a common width: tabs for spaces or the reverse.
    static std::optional<Reindent> byColumns(const QList<IndentPair> &pairs)
    {
        for (const int width : {4, 8, 2}) {
            Reindent r;
            r.kind = Kind::Columns;
            r.tabWidth = width;
            r.shift = columns(pairs.first().file, width) - columns(pairs.first().search, width);
            const bool uniform = std::all_of(pairs.begin(), pairs.end(), [&](const IndentPair &p) {
                return columns(p.file, width) - columns(p.search, width) == r.shift;
            });
            if (!uniform)
                continue;
            const bool fileIndents = std::any_of(
                pairs.begin(), pairs.end(), [](const IndentPair &p) { return !p.file.empty(); });
            r.tabs = std::any_of(pairs.begin(), pairs.end(), [&](const IndentPair &p) {
                return (fileIndents ? p.file : p.search).contains('\t');
            });
            return r;
        }
        return std::nullopt;
    }

    static std::optional<Reindent> between(const QList<IndentPair> &pairs)
    {
        const bool same = std::all_of(pairs.begin(), pairs.end(),
                                      [](const IndentPair &p) { return p.file == p.search; });
        if (pairs.isEmpty() || same)
            return Reindent();
        if (std::optional<Reindent> r = byPrefix(pairs))
            return r;
        return byColumns(pairs);
    }
};

enum class Tier {
    Exact,              // byte for byte (line endings aside)
    Indentation,        // a uniform indentation difference; blank lines' whitespace set aside
    TrailingWhitespace, // the same, and trailing whitespace set aside
};

// Whether search fits the file at position p in a tier beyond Exact, and how to re-indent if so.
std::optional<Reindent> fitAt(const FileView &f, const QList<QByteArray> &search, int p, Tier tier)
{
    QList<IndentPair> pairs;
    for (int i = 0; i < search.size(); ++i) {
        const QByteArrayView s = search[i];
        const QByteArrayView l = f.texts[p + i];
        const bool blank = isBlank(s);
        if (blank || isBlank(l)) {
            if (blank != isBlank(l))
                return std::nullopt;
            continue;
        }
        const qsizetype si = indentLength(s);
        const qsizetype li = indentLength(l);
        QByteArrayView sr = s.sliced(si);
        QByteArrayView lr = l.sliced(li);
        if (tier == Tier::TrailingWhitespace) {
            sr = withoutTrailingSpace(sr);
            lr = withoutTrailingSpace(lr);
        }
        if (sr != lr)
            return std::nullopt;
        pairs.append({l.first(li), s.first(si)});
    }
    return Reindent::between(pairs);
}

bool exactAt(const FileView &f, const QList<QByteArray> &search, int p)
{
    for (int i = 0; i < search.size(); ++i) {
        if (f.texts[p + i] != search[i])
            return false;
    }
    return true;
}

// Every place the SEARCH text fits, in the first tier where it fits anywhere.
struct Placement
{
    Tier tier = Tier::Exact;
    QList<int> positions; // 0-based first lines
    Reindent reindent;    // for the first position

    QString describe() const
    {
        QStringList parts;
        if (!reindent.describe().isEmpty())
            parts << reindent.describe();
        if (tier == Tier::TrailingWhitespace)
            parts << QStringLiteral("trailing whitespace ignored");
        if (parts.isEmpty())
            parts << QStringLiteral("the whitespace of blank lines ignored");
        return parts.join(QStringLiteral(" and "));
    }

    static Placement find(const FileView &f, const QList<QByteArray> &search)
    {
        Placement out;
        const int last = int(f.texts.size() - search.size());
        for (const Tier tier : {Tier::Exact, Tier::Indentation, Tier::TrailingWhitespace}) {
            out.tier = tier;
            for (int p = 0; p <= last; ++p) {
                if (tier == Tier::Exact) {
                    if (exactAt(f, search, p))
                        out.positions.append(p);
                    continue;
                }
                const std::optional<Reindent> r = fitAt(f, search, p, tier);
                if (!r)
                    continue;
                if (out.positions.isEmpty())
                    out.reindent = *r;
                out.positions.append(p);
            }
            if (!out.positions.isEmpty())
                break;
        }
        return out;
    }
};

// ---------------------------------------------------------------------------------------------
// Editing

// contents with lines added at its end, after a line ending if its last line has none.
QByteArray appended(const QByteArray &contents, const QList<QByteArray> &lines)
{
    if (lines.isEmpty())
        return contents;
    const QByteArray eol = FileView(contents).eol;
    QByteArray out = contents;
    if (!out.isEmpty() && !out.endsWith('\n'))
        out += eol;
    for (const QByteArray &l : lines)
        out += l + eol;
    return out;
}

// Replaces the SEARCH lines at pos with the REPLACE lines. The REPLACE text's leading and
// trailing lines that repeat the SEARCH text keep the file's own bytes (its whitespace, its line
// endings); the others are re-indented and take the file's dominant line ending. A file without
// a final newline keeps none.
QByteArray spliced(const QByteArray &bytes, const FileView &f, int pos, const SearchReplaceBlock &b,
                   const Reindent &reindent)
{
    const int n = int(b.search.size());
    const int m = int(b.replace.size());
    int lead = 0;
    while (lead < std::min(n, m) && b.replace[lead] == b.search[lead])
        ++lead;
    int trail = 0;
    while (trail < std::min(n, m) - lead && b.replace[m - 1 - trail] == b.search[n - 1 - trail])
        ++trail;
    auto fileLine = [&](int k) {
        QByteArray l = bytes.mid(f.starts[pos + k], f.starts[pos + k + 1] - f.starts[pos + k]);
        return l.endsWith('\n') ? l : l + f.eol;
    };
    QByteArray middle;
    for (int i = 0; i < m; ++i) {
        if (i < lead)
            middle += fileLine(i);
        else if (i >= m - trail)
            middle += fileLine(n - (m - i));
        else
            middle += reindent.apply(b.replace[i]) + f.eol;
    }
    const qsizetype end = f.starts[pos + n];
    QByteArray out = bytes.left(f.starts[pos]) + middle + bytes.mid(end);
    if (end == bytes.size() && !bytes.endsWith('\n') && out.endsWith('\n'))
        out.chop(out.endsWith("\r\n") ? 2 : 1);
    return out;
}

QString blockName(int number, const QString &path)
{
    return QStringLiteral("block %1 of %2").arg(number).arg(path);
}

Error blockError(const QString &code, const QString &message, const QString &path, int number,
                 int line = 0)
{
    Error e = makeError(code, message);
    e.file = path;
    e.hunk = number;
    e.line = line;
    return e;
}

// "lines 3 and 9", "lines 3, 9 and 14", "lines 3, 9, 14, 20, 25, …".
QString lineList(const QList<int> &positions)
{
    constexpr int Shown = 5;
    QStringList numbers;
    for (int i = 0; i < std::min<int>(Shown, int(positions.size())); ++i)
        numbers << QString::number(positions[i] + 1);
    if (positions.size() > Shown)
        return QStringLiteral("lines %1, …").arg(numbers.join(QStringLiteral(", ")));
    const QString last = numbers.takeLast();
    return QStringLiteral("lines %1 and %2").arg(numbers.join(QStringLiteral(", ")), last);
}

// How many characters two lines share at their head and tail, whitespace runs and case set aside
// (key is already so).
int likeness(const QByteArray &key, const QByteArray &line)
{
    const QByteArray other = HunkMatcher::whitespaceKey(line).toLower();
    const qsizetype most = std::min(key.size(), other.size());
    qsizetype head = 0;
    while (head < most && key[head] == other[head])
        ++head;
    qsizetype tail = 0;
    while (tail < most - head && key[key.size() - 1 - tail] == other[other.size() - 1 - tail])
        ++tail;
    return int(head + tail);
}

// HunkMatcher's near miss is the window where most SEARCH lines occur; when none occurs anywhere
// that is just the file's start. The line most like the first SEARCH line says more then (curly
// quotes, a typo, a changed case).
HunkMatcher::NearMiss nearMiss(const FileView &f, const QList<QByteArray> &search)
{
    const HunkMatcher::NearMiss miss = HunkMatcher::nearMiss(f.texts, search, 0);
    if (miss.differing < search.size())
        return miss;
    const QByteArray &first = *std::find_if(search.begin(), search.end(),
                                            [](const QByteArray &l) { return !isBlank(l); });
    const QByteArray key = HunkMatcher::whitespaceKey(first).toLower();
    int best = -1;
    int bestLikeness = 0;
    for (int k = 0; k < f.texts.size(); ++k) {
        const int l = likeness(key, f.texts[k]);
        if (l > bestLikeness) {
            best = k;
            bestLikeness = l;
        }
    }
    if (best < 0)
        return miss;
    HunkMatcher::NearMiss like = HunkMatcher::nearMiss({f.texts[best]}, {first}, 0);
    like.line = best + 1;
    return like;
}

Error notFound(const FileView &f, const SearchReplaceBlock &b, const QString &path, int number)
{
    const HunkMatcher::NearMiss miss = nearMiss(f, b.search);
    if (miss.line == 0) {
        Error e = blockError(
            QStringLiteral("search_not_found"),
            QStringLiteral("%1 did not match: the file is empty").arg(blockName(number, path)),
            path, number);
        e.detail = miss.detail;
        return e;
    }
    Error e = blockError(QStringLiteral("search_not_found"),
                         QStringLiteral("%1 did not match; the nearest place is line %2")
                             .arg(blockName(number, path))
                             .arg(miss.line),
                         path, number, miss.line);
    e.detail = QStringLiteral("line %1: %2").arg(miss.line).arg(miss.detail);
    return e;
}

// The file's new contents after one block with a non-empty SEARCH text, or why it cannot apply.
Result<QByteArray> replaced(const QByteArray &contents, const SearchReplaceBlock &b,
                            const QString &path, int number, QStringList *notes)
{
    const FileView f(contents);
    const Placement where = Placement::find(f, b.search);
    if (where.positions.isEmpty())
        return notFound(f, b, path, number);
    const int pos = where.positions.first();
    if (where.positions.size() > 1)
        return blockError(QStringLiteral("ambiguous_match"),
                          QStringLiteral("%1 matches %2 places (%3); add surrounding lines to the "
                                         "SEARCH text so it matches one")
                              .arg(blockName(number, path))
                              .arg(where.positions.size())
                              .arg(lineList(where.positions)),
                          path, number, pos + 1);
    if (where.tier != Tier::Exact)
        notes->append(QStringLiteral("%1 matched with %2 at line %3")
                          .arg(blockName(number, path), where.describe())
                          .arg(pos + 1));
    return spliced(contents, f, pos, b, where.reindent);
}

Status applyBlock(const SearchReplaceBlock &b, const QString &path, int number, StagedTree &tree)
{
    const Result<FileState> current = tree.read(path);
    if (!current.ok())
        return current.error();
    if (std::all_of(b.search.begin(), b.search.end(),
                    [](const QByteArray &l) { return isBlank(l); })) {
        // An empty SEARCH section creates the file, or appends to it.
        const QByteArray contents = appended(current->contents, b.replace);
        if (!current->exists || contents != current->contents)
            tree.write(path, contents);
        return {};
    }
    if (!current->exists)
        return blockError(QStringLiteral("file_not_found"),
                          QStringLiteral("cannot apply %1: the file does not exist (only a block "
                                         "with an empty SEARCH section creates one)")
                              .arg(blockName(number, path)),
                          path, number);
    const Result<QByteArray> edited = replaced(current->contents, b, path, number, &tree.notes());
    if (!edited.ok())
        return edited.error();
    if (edited.value() != current->contents)
        tree.write(path, edited.value());
    return {};
}

} // namespace

// ---------------------------------------------------------------------------------------------
// SearchReplaceParser

bool SearchReplaceParser::looksLike(const QByteArray &text)
{
    const QList<QByteArray> lines = text.split('\n');
    return std::any_of(lines.begin(), lines.end(),
                       [](const QByteArray &l) { return markerOf(l) == Marker::Search; });
}

Result<QList<SearchReplaceBlock>> SearchReplaceParser::parse(const QByteArray &text,
                                                             const QString &defaultPath)
{
    return Parser(text, defaultPath).run();
}

Status SearchReplaceParser::apply(const QByteArray &text, StagedTree &tree,
                                  const QString &defaultPath)
{
    const Result<QList<SearchReplaceBlock>> blocks = parse(text, defaultPath);
    if (!blocks.ok())
        return blocks.error();
    return apply(blocks.value(), tree);
}

Status SearchReplaceParser::apply(const QList<SearchReplaceBlock> &blocks, StagedTree &tree)
{
    QHash<QString, int> numbers; // blocks seen so far per file
    for (const SearchReplaceBlock &b : blocks) {
        const Result<QString> path = tree.normalize(b.path);
        if (!path.ok())
            return path.error();
        const Status s = applyBlock(b, path.value(), ++numbers[path.value()], tree);
        if (!s.ok())
            return s;
    }
    return {};
}
