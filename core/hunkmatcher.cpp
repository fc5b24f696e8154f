#include "hunkmatcher.h"

#include <algorithm>
#include <cstdlib>

namespace {
// Beyond this many line comparisons the near-miss scan only looks around the expected position.
constexpr qint64 NearMissBudget = 4000000;
constexpr int ShownLineLength = 80;

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

QByteArray withoutCr(const QByteArray &line)
{
    return line.endsWith('\r') ? line.left(line.size() - 1) : line;
}

// A line as shown in an error: invisible characters made visible, long lines shortened.
QString shown(const QByteArray &line)
{
    QString out;
    const QString text = QString::fromUtf8(withoutCr(line));
    for (const QChar ch : text) {
        if (ch == QLatin1Char('\t'))
            out += QStringLiteral("\\t");
        else if (ch == QLatin1Char('"'))
            out += QStringLiteral("\\\"");
        else if (ch.unicode() < 0x20 || ch.unicode() == 0x7f)
            out += QStringLiteral("\\x%1").arg(ch.unicode(), 2, 16, QLatin1Char('0'));
        else
            out += ch;
    }
    if (out.size() > ShownLineLength)
        out = out.left(ShownLineLength - 3) + QStringLiteral("...");
    return QLatin1Char('"') + out + QLatin1Char('"');
}

class Comparer
{
public:
    Comparer(const QList<QByteArray> &lines, const QList<QByteArray> &oldLines,
             HunkMatcher::Fuzz fuzz)
        : m_lines(lines), m_old(oldLines), m_fuzz(fuzz)
    {
        if (fuzz == HunkMatcher::Fuzz::Whitespace) {
            m_oldKeys.reserve(oldLines.size());
            for (const QByteArray &l : oldLines)
                m_oldKeys.append(HunkMatcher::whitespaceKey(l));
            m_lineKeys.resize(lines.size());
            m_keyed.resize(lines.size());
        } else {
            m_oldPlain.reserve(oldLines.size());
            for (const QByteArray &l : oldLines)
                m_oldPlain.append(withoutCr(l));
        }
    }

    bool lineMatches(int fileIndex, int oldIndex)
    {
        if (m_fuzz == HunkMatcher::Fuzz::Whitespace) {
            if (!m_keyed[fileIndex]) {
                m_lineKeys[fileIndex] = HunkMatcher::whitespaceKey(m_lines[fileIndex]);
                m_keyed[fileIndex] = true;
            }
            return m_lineKeys[fileIndex] == m_oldKeys[oldIndex];
        }
        const QByteArray &a = m_lines[fileIndex];
        const QByteArray &b = m_oldPlain[oldIndex];
        const qsizetype len = a.endsWith('\r') ? a.size() - 1 : a.size();
        return len == b.size() && std::equal(b.begin(), b.end(), a.begin());
    }

    bool matchesAt(int position)
    {
        for (int i = 0; i < m_old.size(); ++i) {
            if (!lineMatches(position + i, i))
                return false;
        }
        return true;
    }

private:
    const QList<QByteArray> &m_lines;
    const QList<QByteArray> &m_old;
    HunkMatcher::Fuzz m_fuzz;
    QList<QByteArray> m_oldPlain;
    QList<QByteArray> m_oldKeys;
    QList<QByteArray> m_lineKeys;
    QList<bool> m_keyed;
};
} // namespace

QByteArray HunkMatcher::whitespaceKey(const QByteArray &line)
{
    QByteArray key;
    key.reserve(line.size());
    bool pendingSpace = false;
    for (const char c : line) {
        if (isSpace(c)) {
            pendingSpace = !key.isEmpty();
            continue;
        }
        if (pendingSpace)
            key.append(' ');
        pendingSpace = false;
        key.append(c);
    }
    return key;
}

bool HunkMatcher::sameLine(const QByteArray &a, const QByteArray &b, Fuzz fuzz)
{
    if (fuzz == Fuzz::Whitespace)
        return whitespaceKey(a) == whitespaceKey(b);
    return withoutCr(a) == withoutCr(b);
}

HunkMatcher::Match HunkMatcher::find(const QList<QByteArray> &lines,
                                     const QList<QByteArray> &oldLines, int expected,
                                     const Options &options)
{
    Match m;
    const int size = int(lines.size());
    const int n = int(oldLines.size());
    if (n == 0) {
        // A pure insertion fits anywhere: it goes where the header says (inside the file).
        m.found = true;
        m.position = std::clamp(expected, 0, size);
        m.offset = m.position - expected;
        return m;
    }
    if (n > size)
        return m;
    const int maxPos = size - n;
    const int start = std::clamp(expected, 0, maxPos);
    const int limit = options.maxOffset < 0 ? size : options.maxOffset;

    QList<Fuzz> tiers{Fuzz::None};
    if (options.allowWhitespace)
        tiers.append(Fuzz::Whitespace);
    for (const Fuzz fuzz : tiers) {
        Comparer cmp(lines, oldLines, fuzz);
        auto accept = [&](int pos) {
            m.found = true;
            m.position = pos;
            m.offset = pos - expected;
            m.fuzz = fuzz;
            return m;
        };
        if (options.anchorStart || options.anchorEnd) {
            const bool fits = !(options.anchorStart && options.anchorEnd) || n == size;
            const int anchored = options.anchorStart ? 0 : maxPos;
            if (fits && std::abs(anchored - start) <= limit && cmp.matchesAt(anchored))
                return accept(anchored);
        }
        if (cmp.matchesAt(start))
            return accept(start);
        for (int d = 1; d <= limit; ++d) {
            const bool canForward = start + d <= maxPos;
            const bool canBackward = start - d >= 0;
            if (!canForward && !canBackward)
                break;
            if (canForward && cmp.matchesAt(start + d))
                return accept(start + d);
            if (canBackward && cmp.matchesAt(start - d))
                return accept(start - d);
        }
    }
    return m;
}

HunkMatcher::NearMiss HunkMatcher::nearMiss(const QList<QByteArray> &lines,
                                            const QList<QByteArray> &oldLines, int expected)
{
    NearMiss miss;
    const int size = int(lines.size());
    const int n = int(oldLines.size());
    if (n == 0)
        return miss;
    if (size == 0) {
        miss.differing = n;
        miss.detail = QStringLiteral("expected %1 but the file is empty").arg(shown(oldLines[0]));
        return miss;
    }
    const int start = std::clamp(expected, 0, size - 1);
    int radius = size;
    if (qint64(size) * n > NearMissBudget)
        radius = int(std::max<qint64>(1, NearMissBudget / n / 2));
    const int from = std::max(0, start - radius);
    const int to = std::min(size - 1, start + radius);

    Comparer cmp(lines, oldLines, Fuzz::Whitespace);
    int bestPos = -1;
    int bestScore = -1;
    for (int p = from; p <= to; ++p) {
        int score = 0;
        for (int i = 0; i < n && p + i < size; ++i) {
            if (cmp.lineMatches(p + i, i))
                ++score;
        }
        const bool better = score > bestScore ||
                            (score == bestScore &&
                             (std::abs(p - start) < std::abs(bestPos - start) ||
                              (std::abs(p - start) == std::abs(bestPos - start) && p > bestPos)));
        if (better) {
            bestScore = score;
            bestPos = p;
        }
    }
    miss.position = bestPos;
    miss.differing = n - bestScore;

    // Describe the first line that differs: whitespace-insensitively if any does, else exactly.
    int first = -1;
    bool onlyWhitespace = false;
    for (int i = 0; i < n; ++i) {
        if (bestPos + i >= size || !cmp.lineMatches(bestPos + i, i)) {
            first = i;
            break;
        }
    }
    if (first < 0) {
        onlyWhitespace = true;
        for (int i = 0; i < n; ++i) {
            if (!sameLine(lines[bestPos + i], oldLines[i], Fuzz::None)) {
                first = i;
                break;
            }
        }
        miss.differing = 0;
        for (int i = 0; i < n; ++i) {
            if (!sameLine(lines[bestPos + i], oldLines[i], Fuzz::None))
                ++miss.differing;
        }
    }
    if (first < 0) // cannot happen for a real miss; keep the report well-formed anyway
        first = 0;
    if (bestPos + first >= size) {
        miss.line = size;
        miss.detail = QStringLiteral("expected %1 but the file ends at line %2")
                          .arg(shown(oldLines[first]))
                          .arg(size);
    } else {
        miss.line = bestPos + first + 1;
        miss.detail = QStringLiteral("expected %1 but found %2")
                          .arg(shown(oldLines[first]), shown(lines[bestPos + first]));
    }
    if (onlyWhitespace)
        miss.detail += QStringLiteral(" (whitespace differs)");
    if (miss.differing > 1)
        miss.detail += QStringLiteral("; %1 of %2 lines differ").arg(miss.differing).arg(n);
    return miss;
}
