#pragma once
// A copy-on-write view of the workspace that planners edit in memory. Reads fall through to the
// base FileSource; writes stay here. changeSet() then says what differs from the base, which is
// all that Workspace::commit ever writes. Every format's planner works through one of these.

#include "changeset.h"
#include "filesource.h"

#include <QHash>
#include <QMap>
#include <optional>

class StagedTree
{
public:
    explicit StagedTree(const FileSource &base) : m_base(base) {}

    // Sandbox-normalizes a path named by a patch (see FileSource::normalize).
    Result<QString> normalize(const QString &path) const { return m_base.normalize(path); }

    // All take normalized paths (from normalize()).
    Result<FileState> read(const QString &path) const;
    bool exists(const QString &path) const;
    // Reads paths nothing has written yet from the base in one go (concurrently where the base
    // can), so the read()s that follow find them at hand.
    void prefetch(const QStringList &paths) const;
    // Line counts against the base, when the caller has computed them (on another thread).
    struct LineCounts
    {
        int added = 0;
        int removed = 0;
    };
    void write(const QString &path, const QByteArray &contents,
               std::optional<LineCounts> againstBase = std::nullopt);
    void remove(const QString &path);
    void setMode(const QString &path, int mode);
    // Moves path to newPath (contents and mode); the change set reports a rename.
    Status rename(const QString &path, const QString &newPath);

    // What differs from the base, in a stable order (sorted by path).
    Result<ChangeSet> changeSet() const;
    QStringList &notes() { return m_notes; }

private:
    struct Entry
    {
        bool exists = false;
        QByteArray contents;
        int mode = 0644;
        bool modeSet = false;
        // What the base had, when it was read as the entry was made (then changeSet() need not
        // read it again), and the line counts of contents against it while contents are unchanged.
        bool baseKnown = false;
        bool baseExists = false;
        int baseMode = 0644;
        bool countsKnown = false;
        bool sameAsBase = false;
        int added = 0;
        int removed = 0;
    };
    // m_base.read(), remembering the answer until the path gets an entry: a planner reads a
    // file (or a batch of them), then writes it.
    Result<FileState> baseRead(const QString &path) const;
    // A new entry for path with what the base has (its contents too when keepContents); *base
    // gets the base's contents, for counting.
    Entry entryFromBase(const QString &path, bool keepContents, QByteArray *base) const;

    const FileSource &m_base;
    mutable QHash<QString, Result<FileState>> m_baseReads;
    QMap<QString, Entry> m_entries;
    QHash<QString, QString> m_renamedFrom; // new path -> original path
    QStringList m_notes;
};

// Counts lines the cheap way, by trimming the common head and tail: good enough for a plan.
void countChangedLines(const QByteArray &before, const QByteArray &after, int *added, int *removed);
