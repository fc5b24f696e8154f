#pragma once
// The one shape every patch format becomes (ARCHITECTURE.md seam): a list of whole-file changes,
// computed in memory before anything touches the disk. Workspace::commit is its only writer.

#include <QByteArray>
#include <QJsonArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

struct FileChange
{
    enum class Action { Added, Modified, Deleted, Renamed };

    Action action = Action::Modified;
    QString path;            // workspace-relative, '/'-separated; for Renamed the new path
    QString oldPath;         // Renamed only: where the file was
    QByteArray contents;     // the complete new contents (unused for Deleted)
    std::optional<int> mode; // new permission bits (e.g. 0755) when the patch sets them
    int linesAdded = 0;
    int linesRemoved = 0;

    static QString actionName(Action a);
};

struct ChangeSet
{
    QList<FileChange> changes;
    QStringList notes; // how things were matched ("hunk 2 of a.c applied at offset +3")

    bool isEmpty() const { return changes.isEmpty(); }
    // [{"path":…,"action":"modified","added":N,"removed":M}, …] as in the confirmation log.
    QJsonArray filesJson() const;
};
