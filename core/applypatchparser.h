#pragma once
// The `apply_patch` format that OpenAI's models emit ("*** Begin Patch" … "*** End Patch"):
// Add, Delete and Update File sections, "Move to", and chunks placed by their context lines
// rather than by line numbers. Parsed into ApplyPatchFiles and applied onto a StagedTree, with
// tolerance for the damage assistants do (padded markers, a missing "*** End Patch", prose
// around the patch, whitespace and Unicode punctuation drift in context lines).

#include "result.h"
#include "stagedtree.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

struct ApplyPatchLine
{
    char kind = ' ';   // ' ' context, '-' removed, '+' added
    QByteArray text;   // without the marker and the line ending
    bool bare = false; // an empty patch line (a context line that lost its ' ')
};

struct ApplyPatchChunk
{
    QList<QByteArray> anchors; // the text of each "@@ text" line before the chunk, in order
    QList<ApplyPatchLine> lines;
    bool endOfFile = false; // "*** End of File": the chunk sits at the end of the file
    int patchLine = 0;      // 1-based line of the chunk's first line in the patch

    QList<QByteArray> oldLines() const; // context and removed lines: what must be found
    int trailingBareLines() const;      // empty patch lines at the end (often stray blank lines)
};

struct ApplyPatchFile
{
    enum class Action { Add, Delete, Update };

    Action action = Action::Update;
    QString path;                  // as the patch names it (not yet normalized)
    QString moveTo;                // Update only: "*** Move to:" path, empty when none
    QByteArray contents;           // Add only: the new file's contents
    QList<ApplyPatchChunk> chunks; // Update only
    int patchLine = 0;             // 1-based line of the section's marker in the patch
};

struct ApplyPatch
{
    QList<ApplyPatchFile> files;
    QStringList notes; // what the parser tolerated (e.g. a missing "*** End Patch")
};

class ApplyPatchParser
{
public:
    // For format auto-detection: the text has a "*** Begin Patch" line.
    static bool looksLike(const QByteArray &text);
    static Result<ApplyPatch> parse(const QByteArray &text);
    // Parses and applies onto tree (all paths via tree.normalize(), which enforces the sandbox).
    // On error the tree may be half-edited: the caller throws it away. Notes about tolerated
    // damage and fuzzy matches go into tree.notes().
    static Status apply(const QByteArray &text, StagedTree &tree);
    static Status apply(const ApplyPatch &patch, StagedTree &tree);
    // Applies one file's chunks to contents. displayPath names the file in errors and notes.
    static Result<QByteArray> applyChunks(const QByteArray &contents,
                                          const QList<ApplyPatchChunk> &chunks,
                                          const QString &displayPath, QStringList *notes);
};
