#pragma once
// The `unified` patch format: git-style and traditional unified diffs, parsed into FilePatches and
// applied onto a StagedTree in memory, with git apply's rules (extended headers, /dev/null,
// C-quoted names, "\ No newline at end of file", offset search) and tolerance for the damage
// assistants do to diffs (wrong hunk counts and line numbers, whitespace drift, CRLF).

#include "result.h"
#include "stagedtree.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <optional>

struct HunkLine
{
    char kind = ' ';        // ' ' context, '-' removed, '+' added
    QByteArray text;        // without the marker and the line ending
    bool cr = false;        // the diff line ended in "\r\n"
    bool noNewline = false; // followed by "\ No newline at end of file"
};
Q_DECLARE_TYPEINFO(HunkLine, Q_RELOCATABLE_TYPE);

struct Hunk
{
    int oldStart = 0; // as the header says (1-based; -1 when the header gives no numbers)
    int newStart = 0;
    int oldCount = 0; // as counted from the body, which wins over the header
    int newCount = 0;
    int declaredOldCount = 0; // as the header says
    int declaredNewCount = 0;
    QByteArray section; // text after the closing "@@", e.g. a function name
    QList<HunkLine> lines;
    int diffLine = 0; // 1-based line of the "@@" header in the diff

    QList<QByteArray> oldLines() const;
    QList<QByteArray> newLines() const;
    bool oldEndsWithoutNewline() const;
    bool newEndsWithoutNewline() const;
    int leadingContext() const;
    int trailingContext() const;
    int added() const;
    int removed() const;
};

struct FilePatch
{
    QString oldPath;    // empty for a created file (/dev/null); prefixes already stripped
    QString newPath;    // empty for a deleted file
    bool isGit = false; // from a "diff --git" section
    bool isNew = false;
    bool isDelete = false;
    bool isRename = false;
    bool isCopy = false;
    bool isBinary = false;
    std::optional<int> oldMode; // git's full mode, e.g. 0100644
    std::optional<int> newMode;
    int similarity = -1;    // "similarity index N%"
    int dissimilarity = -1; // "dissimilarity index N%" (a rewrite)
    QList<Hunk> hunks;
    int diffLine = 0; // 1-based line where the section starts in the diff

    int added() const;
    int removed() const;
};

// Declared outside the class so that it can be a default argument of the class's own functions.
struct UnifiedDiffOptions
{
    int strip = -1; // -1: strip a/ b/ (and git's other one-letter) prefixes like -p1, else -p0
    // A diff of at least this many lines is parsed in pieces, a few at a time (same result).
    int piecewiseFromLines = 20000;
};

class UnifiedDiffParser
{
public:
    using Options = UnifiedDiffOptions;

    // For format auto-detection: a "diff --git" line, or a "---" line followed by a "+++" line.
    static bool looksLike(const QByteArray &text);
    static Result<QList<FilePatch>> parse(const QByteArray &diff, const Options &o = {});
    // Parses and applies onto tree (all paths via tree.normalize(), which enforces the sandbox).
    // On error the tree may be half-edited: the caller throws it away. Notes about offsets or
    // whitespace-insensitive matches go into tree.notes().
    static Status apply(const QByteArray &diff, StagedTree &tree, const Options &o = {});
    static Status apply(const QList<FilePatch> &patches, StagedTree &tree);
    // Applies one file's hunks to contents (for tests and other planners). displayPath names the
    // file in errors and notes.
    static Result<QByteArray> applyHunks(const QByteArray &contents, const QList<Hunk> &hunks,
                                         const QString &displayPath, QStringList *notes);
    // `git apply --stat --summary`-like text, for checking what the parser understood (t4100).
    static QString summary(const QList<FilePatch> &patches);
};
