#pragma once
// Finds where a hunk's old lines sit in a file, the way git apply and GNU patch do: the stated
// position first, then an offset search outwards (forwards, then backwards, alternately), then the
// same search again ignoring whitespace differences. When nothing matches it describes the best
// near miss, so the error can say where the hunk almost fit and how it differs.

#include <QByteArray>
#include <QList>
#include <QString>

class HunkMatcher
{
public:
    enum class Fuzz {
        None,      // every line matched byte for byte (line endings aside)
        Whitespace // matched only when runs of whitespace were treated as equal
    };

    struct Options
    {
        // The hunk has no leading context and starts at line 1 (or 0): prefer the file start.
        bool anchorStart = false;
        // The hunk has no trailing context: prefer the file end. Both anchors are dropped when
        // the anchored position does not match, as git does.
        bool anchorEnd = false;
        bool allowWhitespace = true;
        int maxOffset = -1; // -1: search the whole file
    };

    struct Match
    {
        bool found = false;
        int position = -1; // 0-based index of the first old line in the file
        int offset = 0;    // position minus the expected position
        Fuzz fuzz = Fuzz::None;
    };

    struct NearMiss
    {
        int position = -1; // 0-based window start of the best near miss, -1 when none
        int line = 0;      // 1-based line of its first difference (0 when the file is empty)
        int differing = 0; // how many of the hunk's old lines differ there
        QString detail;    // e.g. expected "foo(x);" but found "foo(y);"
    };

    // lines and oldLines are line texts without their line endings (a trailing '\r' is ignored).
    // expected is the 0-based position the hunk header names (clamped into the file).
    static Match find(const QList<QByteArray> &lines, const QList<QByteArray> &oldLines,
                      int expected, const Options &options);
    static Match find(const QList<QByteArray> &lines, const QList<QByteArray> &oldLines,
                      int expected)
    {
        return find(lines, oldLines, expected, Options());
    }

    // The window where most old lines match (whitespace-insensitively), nearest to expected on a
    // tie, described for an error message.
    static NearMiss nearMiss(const QList<QByteArray> &lines, const QList<QByteArray> &oldLines,
                             int expected);

    static bool sameLine(const QByteArray &a, const QByteArray &b, Fuzz fuzz);
    // Collapses whitespace runs to one space and trims both ends: the whitespace-insensitive key.
    static QByteArray whitespaceKey(const QByteArray &line);
};
