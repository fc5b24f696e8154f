#pragma once
// The `search_replace` format, as aider and many assistants emit it: a file path line, then
// "<<<<<<< SEARCH" / "=======" / ">>>>>>> REPLACE" blocks, each replacing one run of whole lines
// that must occur exactly once. Blocks apply in order onto a StagedTree (a later block sees the
// earlier ones' result), tolerant of what assistants do to them: code fences and prose around the
// blocks, decorated file names, 5 to 9 marker characters, a uniform indentation difference
// (spaces, tabs, or tabs for spaces), trailing whitespace, CRLF files. An empty SEARCH section
// creates the file, or appends to it when it exists.
//
// Blocks are numbered per file, from 1, in patch order ("block 2 of app.py"); Error::hunk carries
// that number. A block without a path line continues the previous block's file.

#include "result.h"
#include "stagedtree.h"

#include <QByteArray>
#include <QList>
#include <QString>

struct SearchReplaceBlock
{
    QString path;              // the file as the patch names it, decoration stripped
    QList<QByteArray> search;  // lines, without their endings
    QList<QByteArray> replace; // lines, without their endings
    int patchLine = 0;         // 1-based line of the "<<<<<<< SEARCH" marker in the patch
};

class SearchReplaceParser
{
public:
    // For format auto-detection: the text has a "<<<<<<< SEARCH" line (5 to 9 '<').
    static bool looksLike(const QByteArray &text);
    // The blocks, or "bad_patch" (with the patch line in the message and Error::line) when a
    // block is unterminated, names no file, or there is none.
    // defaultPath (an envelope's target_file) is the file of blocks before any path line.
    static Result<QList<SearchReplaceBlock>> parse(const QByteArray &text,
                                                   const QString &defaultPath = QString());
    // Parses and applies onto tree; every path goes through tree.normalize() (the sandbox). On
    // error the tree may be half-edited: the caller throws it away. Notes about inexact matches
    // go into tree.notes().
    static Status apply(const QByteArray &text, StagedTree &tree,
                        const QString &defaultPath = QString());
    static Status apply(const QList<SearchReplaceBlock> &blocks, StagedTree &tree);
};
