#include "applypatchparser.h"

#include "hunkmatcher.h"

#include <QRegularExpression>
#include <algorithm>

QList<QByteArray> ApplyPatchChunk::oldLines() const
{
    QList<QByteArray> out;
    for (const ApplyPatchLine &l : lines) {
        if (l.kind != '+')
            out.append(l.text);
    }
    return out;
}

int ApplyPatchChunk::trailingBareLines() const
{
    const auto last = std::find_if(lines.crbegin(), lines.crend(),
                                   [](const ApplyPatchLine &l) { return !l.bare; });
    return int(last - lines.crbegin());
}

namespace {

constexpr int ShownLength = 80;

// A patch or file line quoted for a message, long lines shortened.
QString shown(const QByteArray &text)
{
    QString s = QString::fromUtf8(text);
    if (s.size() > ShownLength)
        s = s.left(ShownLength - 3) + QStringLiteral("...");
    return QLatin1Char('"') + s + QLatin1Char('"');
}

// ---------------------------------------------------------------------------------------------
// Parsing

enum class Marker { None, Begin, End, AddFile, DeleteFile, UpdateFile, MoveTo, EndOfFile };

struct MarkerLine
{
    Marker kind = Marker::None;
    QByteArray argument; // the path after "File:" or "Move to:", trimmed
};

// Markers may be padded with whitespace on either side: assistants indent and pad them.
MarkerLine markerOf(const QByteArray &line)
{
    struct Known
    {
        const char *text;
        Marker kind;
        bool takesPath;
    };
    static const Known known[] = {{"*** Begin Patch", Marker::Begin, false},
                                  {"*** End Patch", Marker::End, false},
                                  {"*** End of File", Marker::EndOfFile, false},
                                  {"*** Add File:", Marker::AddFile, true},
                                  {"*** Delete File:", Marker::DeleteFile, true},
                                  {"*** Update File:", Marker::UpdateFile, true},
                                  {"*** Move to:", Marker::MoveTo, true}};
    MarkerLine m;
    const QByteArray t = line.trimmed();
    if (!t.startsWith("***"))
        return m;
    for (const Known &k : known) {
        if (k.takesPath ? t.startsWith(k.text) : t == k.text) {
            m.kind = k.kind;
            if (k.takesPath)
                m.argument = t.mid(qstrlen(k.text)).trimmed();
            return m;
        }
    }
    return m;
}

bool isChunkLine(const QByteArray &line)
{
    return line.isEmpty() || line[0] == ' ' || line[0] == '-' || line[0] == '+';
}

bool isAnchorLine(const QByteArray &line)
{
    return line.trimmed().startsWith("@@");
}

class Parser
{
public:
    explicit Parser(const QByteArray &text)
    {
        m_lines = text.split('\n');
        if (!m_lines.isEmpty() && m_lines.last().isEmpty())
            m_lines.removeLast(); // the final "\n" ends the last line; it does not start one
        for (QByteArray &l : m_lines) {
            if (l.endsWith('\r'))
                l.chop(1);
        }
    }

    // Every "*** Begin Patch" … "*** End Patch" block, in order; text around them is ignored.
    Result<ApplyPatch> run()
    {
        skipToBegin();
        if (m_i == m_lines.size())
            return makeError("bad_patch", "the patch has no \"*** Begin Patch\" line");
        bool ended = true;
        while (m_i < m_lines.size()) {
            ++m_i;
            const Result<bool> block = parseBlock();
            if (!block.ok())
                return block.error();
            ended = *block;
            skipToBegin();
        }
        if (!ended)
            m_patch.notes.append(QStringLiteral("the patch has no \"*** End Patch\" line (was it "
                                                "cut short?); applied the sections it has"));
        if (m_patch.files.isEmpty())
            return makeError("bad_patch", "the patch changes no file");
        return m_patch;
    }

private:
    Error parseError(int line, const QString &what, const QString &file = QString()) const
    {
        Error e =
            makeError("bad_patch", QStringLiteral("line %1 of the patch: %2").arg(line).arg(what));
        e.line = line;
        e.file = file;
        return e;
    }

    Error unexpected(const QString &expected, const QString &file = QString()) const
    {
        return parseError(
            m_i + 1, QStringLiteral("expected %1 but found %2").arg(expected, shown(m_lines[m_i])),
            file);
    }

    void skipToBegin()
    {
        while (m_i < m_lines.size() && markerOf(m_lines[m_i]).kind != Marker::Begin)
            ++m_i; // prose, or a heredoc line such as "apply_patch <<'EOF'"
    }

    // The sections of one block; true when it ended with "*** End Patch" (then skipped).
    Result<bool> parseBlock()
    {
        while (m_i < m_lines.size()) {
            const MarkerLine m = markerOf(m_lines[m_i]);
            Status s;
            if (m.kind == Marker::End)
                return true;
            if (m.kind == Marker::AddFile || m.kind == Marker::DeleteFile ||
                m.kind == Marker::UpdateFile)
                s = parseSection(m);
            else if (m_lines[m_i].trimmed().isEmpty())
                ++m_i;
            else
                return unexpected("\"*** Add File:\", \"*** Update File:\", \"*** Delete File:\" "
                                  "or \"*** End Patch\"");
            if (!s.ok())
                return s.error();
        }
        return false;
    }

    bool atSectionEnd() const
    {
        if (m_i >= m_lines.size())
            return true;
        const Marker k = markerOf(m_lines[m_i]).kind;
        return k == Marker::End || k == Marker::AddFile || k == Marker::DeleteFile ||
               k == Marker::UpdateFile;
    }

    // One Add, Delete or Update section, from its marker line to the next section or the end.
    Status parseSection(const MarkerLine &marker)
    {
        ApplyPatchFile f;
        f.action = marker.kind == Marker::AddFile      ? ApplyPatchFile::Action::Add
                   : marker.kind == Marker::DeleteFile ? ApplyPatchFile::Action::Delete
                                                       : ApplyPatchFile::Action::Update;
        f.path = QString::fromUtf8(marker.argument);
        f.patchLine = m_i + 1;
        if (f.path.isEmpty())
            return parseError(f.patchLine, QStringLiteral("the file marker names no path"));
        ++m_i;
        const Status s = f.action == ApplyPatchFile::Action::Add      ? parseAdded(&f)
                         : f.action == ApplyPatchFile::Action::Delete ? parseDeleted(&f)
                                                                      : parseUpdated(&f);
        if (!s.ok())
            return s;
        m_patch.files.append(f);
        return {};
    }

    Status parseAdded(ApplyPatchFile *f)
    {
        // Blank lines between '+' lines are empty lines whose '+' got lost; trailing ones are not.
        int blanks = 0;
        for (; m_i < m_lines.size(); ++m_i) {
            const QByteArray &l = m_lines[m_i];
            if (l.isEmpty()) {
                ++blanks;
                continue;
            }
            if (!l.startsWith('+'))
                break;
            f->contents += QByteArray(blanks, '\n') + l.mid(1) + '\n';
            blanks = 0;
        }
        if (!atSectionEnd())
            return unexpected("a '+' line of the new file or a \"***\" marker", f->path);
        return {};
    }

    Status parseDeleted(ApplyPatchFile *f)
    {
        while (m_i < m_lines.size() && m_lines[m_i].trimmed().isEmpty())
            ++m_i;
        if (!atSectionEnd())
            return unexpected("the next \"***\" marker (a Delete File section has no lines)",
                              f->path);
        return {};
    }

    Status parseUpdated(ApplyPatchFile *f)
    {
        if (m_i < m_lines.size() && markerOf(m_lines[m_i]).kind == Marker::MoveTo) {
            f->moveTo = QString::fromUtf8(markerOf(m_lines[m_i]).argument);
            if (f->moveTo.isEmpty())
                return parseError(m_i + 1, QStringLiteral("\"*** Move to:\" names no path"),
                                  f->path);
            ++m_i;
        }
        while (!atSectionEnd()) {
            const QByteArray &l = m_lines[m_i];
            const Marker k = markerOf(l).kind;
            if (k == Marker::MoveTo)
                return parseError(m_i + 1,
                                  QStringLiteral("\"*** Move to:\" must directly follow its "
                                                 "\"*** Update File:\" line"),
                                  f->path);
            if (k != Marker::None || !(isAnchorLine(l) || isChunkLine(l)))
                return unexpected("a \"***\" marker, '@@', or a chunk line", f->path);
            const Status s = parseChunk(f);
            if (!s.ok())
                return s;
        }
        // A bare "*** Move to:" without chunks is a plain rename: it changes something.
        if (f->chunks.isEmpty() && f->moveTo.isEmpty())
            return parseError(
                f->patchLine,
                QStringLiteral("the Update File section for %1 has no chunks").arg(f->path),
                f->path);
        return {};
    }

    // One chunk: its "@@" lines, then context, removed and added lines up to the next "@@",
    // marker or "*** End of File".
    Status parseChunk(ApplyPatchFile *f)
    {
        ApplyPatchChunk c;
        c.patchLine = m_i + 1;
        bool headed = false;
        for (; m_i < m_lines.size() && isAnchorLine(m_lines[m_i]); ++m_i) {
            headed = true;
            addAnchor(&c, m_lines[m_i], *f);
        }
        for (; m_i < m_lines.size(); ++m_i) {
            const QByteArray &l = m_lines[m_i];
            const Marker k = markerOf(l).kind;
            if (k == Marker::EndOfFile) {
                c.endOfFile = true;
                ++m_i;
                break;
            }
            if (k != Marker::None || (isAnchorLine(l) && !l.startsWith(' ')))
                break;
            if (!isChunkLine(l))
                return unexpected("a \"***\" marker, '@@', or a chunk line", f->path);
            ApplyPatchLine line;
            line.kind = l.isEmpty() ? ' ' : l[0];
            line.text = l.mid(1);
            line.bare = l.isEmpty();
            c.lines.append(line);
        }
        if (c.lines.isEmpty())
            return parseError(
                c.patchLine,
                QStringLiteral("the chunk of %1 that starts here has no lines").arg(f->path),
                f->path);
        // Blank lines between "*** Update File:" and the first "@@" are layout, not a chunk.
        if (!headed && !c.endOfFile && c.trailingBareLines() == c.lines.size())
            return {};
        f->chunks.append(c);
        return {};
    }

    // "@@ text" names a line to find first; "@@" alone names none. Unified-diff line numbers
    // ("@@ -12,5 +12,6 @@ def f():") are dropped: this format places chunks by context.
    void addAnchor(ApplyPatchChunk *c, const QByteArray &line, const ApplyPatchFile &f)
    {
        static const QRegularExpression numbers(
            QStringLiteral(R"(^\s*(-\d+(?:,\d+)?\s+\+\d+(?:,\d+)?)?\s*@@ ?(.*)$)"));
        QByteArray text = line.mid(line.indexOf("@@") + 2);
        const QRegularExpressionMatch m = numbers.match(QString::fromUtf8(text));
        if (m.hasMatch()) {
            if (!m.captured(1).isEmpty())
                m_patch.notes.append(
                    QStringLiteral("line %1 of the patch: ignored the line numbers of %2 (chunks "
                                   "of %3 are placed by their context)")
                        .arg(m_i + 1)
                        .arg(shown(line.trimmed()), f.path));
            text = m.captured(2).toUtf8();
        } else if (text.startsWith(' ')) {
            text = text.mid(1);
        }
        if (!text.trimmed().isEmpty())
            c->anchors.append(text);
    }

    QList<QByteArray> m_lines;
    int m_i = 0;
    ApplyPatch m_patch;
};

// ---------------------------------------------------------------------------------------------
// Finding lines: exact first, then ever looser comparisons, each over the whole range

enum class Tier { Exact, TrailingWhitespace, SurroundingWhitespace, Punctuation };
constexpr Tier AllTiers[] = {Tier::Exact, Tier::TrailingWhitespace, Tier::SurroundingWhitespace,
                             Tier::Punctuation};

QString tierName(Tier tier)
{
    switch (tier) {
    case Tier::Exact:
        break;
    case Tier::TrailingWhitespace:
        return QStringLiteral("ignoring trailing whitespace");
    case Tier::SurroundingWhitespace:
        return QStringLiteral("ignoring leading and trailing whitespace");
    case Tier::Punctuation:
        return QStringLiteral("ignoring Unicode dashes, quotes and spaces");
    }
    return QStringLiteral("exactly");
}

// The ASCII stand-in for typographic punctuation and unusual spaces, or 0 for other characters.
char plainFor(char16_t c)
{
    if ((c >= 0x2010 && c <= 0x2015) || c == 0x2212)
        return '-';
    if (c >= 0x2018 && c <= 0x201B)
        return '\'';
    if (c >= 0x201C && c <= 0x201F)
        return '"';
    if (c == 0x00A0 || (c >= 0x2002 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000)
        return ' ';
    return 0;
}

QByteArray plainPunctuation(const QByteArray &line)
{
    if (std::all_of(line.begin(), line.end(), [](char c) { return uchar(c) < 0x80; }))
        return line;
    QString s = QString::fromUtf8(line);
    for (QChar &ch : s) {
        if (const char plain = plainFor(ch.unicode()))
            ch = QLatin1Char(plain);
    }
    return s.toUtf8();
}

QByteArray withoutTrailingWhitespace(const QByteArray &line)
{
    qsizetype n = line.size();
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\v' ||
                     line[n - 1] == '\f' || line[n - 1] == '\r'))
        --n;
    return line.left(n);
}

QByteArray lineKey(const QByteArray &line, Tier tier)
{
    switch (tier) {
    case Tier::Exact:
        break;
    case Tier::TrailingWhitespace:
        return withoutTrailingWhitespace(line);
    case Tier::SurroundingWhitespace:
        return line.trimmed();
    case Tier::Punctuation:
        return plainPunctuation(line).trimmed();
    }
    return line;
}

// A file's lines seen through one tier, keyed lazily: most chunks match near where they start.
class TierView
{
public:
    TierView(const QList<QByteArray> &lines, Tier tier)
        : m_lines(lines), m_tier(tier), m_keys(lines.size()), m_keyed(lines.size(), false)
    {}

    bool matchesAt(int position, const QList<QByteArray> &pattern)
    {
        for (int i = 0; i < pattern.size(); ++i) {
            if (key(position + i) != pattern[i])
                return false;
        }
        return true;
    }

private:
    const QByteArray &key(int i)
    {
        if (!m_keyed[i]) {
            m_keys[i] = lineKey(m_lines[i], m_tier);
            m_keyed[i] = true;
        }
        return m_keys[i];
    }

    const QList<QByteArray> &m_lines;
    Tier m_tier;
    QList<QByteArray> m_keys;
    QList<bool> m_keyed;
};

struct Placement
{
    int position = -1; // 0-based index of the first matched line, -1 when not found
    Tier tier = Tier::Exact;
};

// The first position in [from, to] where pattern matches, trying each tier over the whole range
// before the next one.
Placement locate(const QList<QByteArray> &lines, const QList<QByteArray> &pattern, int from, int to)
{
    Placement p;
    to = std::min(to, int(lines.size() - pattern.size()));
    for (const Tier tier : AllTiers) {
        QList<QByteArray> keys;
        for (const QByteArray &l : pattern)
            keys.append(lineKey(l, tier));
        TierView view(lines, tier);
        for (int position = std::max(0, from); position <= to; ++position) {
            if (view.matchesAt(position, keys)) {
                p.position = position;
                p.tier = tier;
                return p;
            }
        }
    }
    return p;
}

// ---------------------------------------------------------------------------------------------
// Applying chunks to one file

// A file as lines that keep their own line endings, so untouched lines stay byte-identical;
// added lines take the file's dominant ending, and a missing final newline stays missing.
class LineBuffer
{
public:
    explicit LineBuffer(const QByteArray &contents)
    {
        m_finalNewline = contents.isEmpty() || contents.endsWith('\n');
        QList<QByteArray> parts = contents.split('\n');
        if (m_finalNewline)
            parts.removeLast();
        int crlf = 0;
        for (int i = 0; i < parts.size(); ++i) {
            Line l{parts[i], QByteArrayLiteral("\n")};
            if (i + 1 == parts.size() && !m_finalNewline) {
                l.eol.clear();
            } else if (l.text.endsWith('\r')) {
                l = Line{l.text.chopped(1), QByteArrayLiteral("\r\n")};
                ++crlf;
            }
            m_lines.append(l);
        }
        if (crlf * 2 > m_lines.size())
            m_eol = QByteArrayLiteral("\r\n");
        refreshTexts();
    }

    const QList<QByteArray> &texts() const { return m_texts; }
    int size() const { return int(m_lines.size()); }

    // Replaces the chunk's old lines, which start at position, by its new ones; returns the
    // index just past them.
    int replace(int position, const QList<ApplyPatchLine> &chunk)
    {
        QList<Line> now;
        int consumed = 0;
        for (const ApplyPatchLine &l : chunk) {
            if (l.kind == '+')
                now.append(Line{l.text, m_eol});
            else if (l.kind == ' ')
                now.append(m_lines[position + consumed++]); // the file's text, not the patch's
            else
                ++consumed;
        }
        m_lines = m_lines.mid(0, position) + now + m_lines.mid(position + consumed);
        refreshTexts();
        return position + int(now.size());
    }

    QByteArray join() const
    {
        QByteArray out;
        for (int i = 0; i < m_lines.size(); ++i) {
            out += m_lines[i].text;
            if (i + 1 < m_lines.size() || m_finalNewline)
                out += m_lines[i].eol.isEmpty() ? m_eol : m_lines[i].eol;
        }
        return out;
    }

private:
    struct Line
    {
        QByteArray text;
        QByteArray eol; // "\n", "\r\n", or empty for a last line without one
    };

    void refreshTexts()
    {
        m_texts.clear();
        for (const Line &l : m_lines)
            m_texts.append(l.text);
    }

    QList<Line> m_lines;
    QList<QByteArray> m_texts;
    QByteArray m_eol = QByteArrayLiteral("\n");
    bool m_finalNewline = true;
};

class ChunkApplier
{
public:
    ChunkApplier(const QByteArray &contents, const QString &path, QStringList *notes)
        : m_file(contents), m_path(path), m_notes(notes)
    {}

    Status apply(const ApplyPatchChunk &chunk, int number)
    {
        const Result<int> anchor = findAnchors(chunk, number);
        if (!anchor.ok())
            return anchor.error();
        const Result<int> at = position(chunk, *anchor, number);
        if (at.ok()) {
            m_cursor = m_file.replace(*at, chunk.lines);
            return {};
        }
        // Blank lines at a chunk's end are usually layout before the next marker, not context.
        const int bare = chunk.trailingBareLines();
        if (bare == 0)
            return at.error();
        ApplyPatchChunk trimmed = chunk;
        trimmed.lines.resize(trimmed.lines.size() - bare);
        const Result<int> retry = position(trimmed, *anchor, number);
        if (!retry.ok())
            return at.error(); // report the chunk as written
        m_notes->append(QStringLiteral("chunk %1 of %2 matched without its %3 trailing blank "
                                       "line(s)")
                            .arg(QString::number(number), m_path, QString::number(bare)));
        m_cursor = m_file.replace(*retry, trimmed.lines);
        return {};
    }

    QByteArray result() const { return m_file.join(); }

private:
    // Each "@@" line must be found after the previous one; returns the last one's index, or -1.
    Result<int> findAnchors(const ApplyPatchChunk &chunk, int number)
    {
        int at = -1;
        int from = m_cursor;
        for (const QByteArray &anchor : chunk.anchors) {
            const Placement p = locate(m_file.texts(), {anchor}, from, m_file.size());
            if (p.position < 0) {
                Error e = nearMissError(number, {anchor}, from);
                e.message = QStringLiteral("chunk %1 of %2 did not match: the @@ line %3 was not "
                                           "found at or after line %4")
                                .arg(QString::number(number), m_path, shown(anchor),
                                     QString::number(from + 1));
                return e;
            }
            if (p.tier != Tier::Exact)
                m_notes->append(QStringLiteral("the @@ line %1 of chunk %2 of %3 matched %4 at "
                                               "line %5")
                                    .arg(shown(anchor), QString::number(number), m_path,
                                         tierName(p.tier), QString::number(p.position + 1)));
            at = p.position;
            from = at + 1;
        }
        return at;
    }

    // Where the chunk's old lines start: after the last anchor (which they may begin with) or
    // after the previous chunk; a chunk marked "*** End of File" tries the file's end first.
    Result<int> position(const ApplyPatchChunk &chunk, int anchor, int number)
    {
        const QList<QByteArray> old = chunk.oldLines();
        if (old.isEmpty())
            return chunk.endOfFile || anchor < 0 ? m_file.size() : anchor + 1;
        const int from = anchor < 0 ? m_cursor : anchor;
        const int end = m_file.size() - int(old.size());
        Placement p;
        if (chunk.endOfFile && end >= from)
            p = locate(m_file.texts(), old, end, end);
        if (p.position < 0) {
            p = locate(m_file.texts(), old, from, end);
            if (p.position >= 0 && chunk.endOfFile)
                m_notes->append(
                    QStringLiteral("chunk %1 of %2 is marked \"*** End of File\" but "
                                   "matched at line %3, not at the end")
                        .arg(QString::number(number), m_path, QString::number(p.position + 1)));
        }
        if (p.position < 0) {
            Error e = nearMissError(number, old, from);
            e.message =
                QStringLiteral("chunk %1 of %2 did not match: expected context not found "
                               "near line %3")
                    .arg(QString::number(number), m_path, QString::number(std::max(1, e.line)));
            return e;
        }
        if (p.tier != Tier::Exact)
            m_notes->append(QStringLiteral("chunk %1 of %2 matched %3 at line %4")
                                .arg(QString::number(number), m_path, tierName(p.tier),
                                     QString::number(p.position + 1)));
        return p.position;
    }

    // context_not_found, pointing at the window where most expected lines match (or where they
    // all do, when that is before the search start).
    Error nearMissError(int number, const QList<QByteArray> &expected, int from) const
    {
        Error e = makeError(QStringLiteral("context_not_found"), QString());
        e.file = m_path;
        e.hunk = number;
        const Placement earlier = locate(m_file.texts(), expected, 0, from - 1);
        if (earlier.position >= 0) {
            e.line = earlier.position + 1;
            e.detail = QStringLiteral("line %1: %2 only before line %3, where the search for this "
                                      "chunk starts (chunks must follow the file's order)")
                           .arg(e.line)
                           .arg(expected.size() == 1 ? QStringLiteral("this line occurs")
                                                     : QStringLiteral("these lines occur"))
                           .arg(from + 1);
            return e;
        }
        const HunkMatcher::NearMiss miss = HunkMatcher::nearMiss(m_file.texts(), expected, from);
        e.line = miss.position + 1;
        e.detail = miss.line > 0 ? QStringLiteral("line %1: %2").arg(miss.line).arg(miss.detail)
                                 : miss.detail;
        return e;
    }

    LineBuffer m_file;
    QString m_path;
    QStringList *m_notes;
    int m_cursor = 0; // where the next chunk's search starts: just past the previous chunk
};

// ---------------------------------------------------------------------------------------------
// Applying sections to the tree

Error fileError(const QString &code, const QString &message, const QString &file)
{
    Error e = makeError(code, message);
    e.file = file;
    return e;
}

struct Target
{
    QString path; // normalized
    FileState state;
};

Result<Target> resolve(const StagedTree &tree, const QString &named)
{
    const Result<QString> path = tree.normalize(named);
    if (!path.ok())
        return path.error();
    const Result<FileState> state = tree.read(*path);
    if (!state.ok())
        return state.error();
    return Target{*path, *state};
}

// The file a section names, which must exist (or, for an Add, must not).
Result<Target> target(const StagedTree &tree, const QString &named, bool mustExist,
                      const QString &verb)
{
    const Result<Target> t = resolve(tree, named);
    if (!t.ok() || t->state.exists == mustExist)
        return t;
    return fileError(
        mustExist ? "file_not_found" : "file_exists",
        QStringLiteral("cannot %1 %2: it %3")
            .arg(verb, t->path,
                 mustExist ? QStringLiteral("does not exist") : QStringLiteral("already exists")),
        t->path);
}

Status updateFile(const ApplyPatchFile &f, StagedTree &tree)
{
    const Result<Target> source = target(tree, f.path, true, QStringLiteral("update"));
    if (!source.ok())
        return source.error();
    QString destination = source->path;
    if (!f.moveTo.isEmpty()) {
        const Result<Target> moved = resolve(tree, f.moveTo);
        if (!moved.ok())
            return moved.error();
        if (moved->path != source->path && moved->state.exists)
            return fileError("file_exists",
                             QStringLiteral("cannot move %1 to %2: %2 already exists")
                                 .arg(source->path, moved->path),
                             moved->path);
        destination = moved->path;
    }
    const Result<QByteArray> contents = ApplyPatchParser::applyChunks(
        source->state.contents, f.chunks, source->path, &tree.notes());
    if (!contents.ok())
        return contents.error();
    if (destination != source->path) {
        const Status renamed = tree.rename(source->path, destination);
        if (!renamed.ok())
            return renamed;
    }
    if (*contents != source->state.contents)
        tree.write(destination, *contents);
    return {};
}

} // namespace

// ---------------------------------------------------------------------------------------------
// ApplyPatchParser

bool ApplyPatchParser::looksLike(const QByteArray &text)
{
    const QList<QByteArray> lines = text.split('\n');
    return std::any_of(lines.begin(), lines.end(),
                       [](const QByteArray &l) { return markerOf(l).kind == Marker::Begin; });
}

Result<ApplyPatch> ApplyPatchParser::parse(const QByteArray &text)
{
    return Parser(text).run();
}

Status ApplyPatchParser::apply(const QByteArray &text, StagedTree &tree)
{
    const Result<ApplyPatch> patch = parse(text);
    if (!patch.ok())
        return patch.error();
    return apply(patch.value(), tree);
}

Status ApplyPatchParser::apply(const ApplyPatch &patch, StagedTree &tree)
{
    tree.notes().append(patch.notes);
    for (const ApplyPatchFile &f : patch.files) {
        Status s;
        if (f.action == ApplyPatchFile::Action::Update) {
            s = updateFile(f, tree);
        } else {
            const bool adds = f.action == ApplyPatchFile::Action::Add;
            const Result<Target> t = target(
                tree, f.path, !adds, adds ? QStringLiteral("add") : QStringLiteral("delete"));
            if (!t.ok())
                return t.error();
            if (adds)
                tree.write(t->path, f.contents);
            else
                tree.remove(t->path);
        }
        if (!s.ok())
            return s;
    }
    return {};
}

Result<QByteArray> ApplyPatchParser::applyChunks(const QByteArray &contents,
                                                 const QList<ApplyPatchChunk> &chunks,
                                                 const QString &displayPath, QStringList *notes)
{
    QStringList unused;
    ChunkApplier applier(contents, displayPath, notes ? notes : &unused);
    for (int k = 0; k < chunks.size(); ++k) {
        const Status s = applier.apply(chunks[k], k + 1);
        if (!s.ok())
            return s.error();
    }
    return applier.result();
}
