#pragma once
// The only code that writes workspace files. It resolves paths inside the root (no '..', no
// symlink escapes, no device files), and commits a ChangeSet atomically: every new file is
// written to a temporary file beside its target and fsynced, originals are kept as hard-linked
// backups, and only then are the renames done. A transaction record (one JSON file under
// txnDir) lets a restarted process roll back a commit that a crash interrupted.

#include "changeset.h"
#include "filesource.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>

struct WorkspaceOptions
{
    bool allowGit = false; // may patches touch .git/?
    QString txnDir;        // where transaction records live; empty: no crash recovery
};

class Workspace final : public FileSource
{
public:
    explicit Workspace(const QString &root, WorkspaceOptions options = WorkspaceOptions());

    QString root() const { return m_root; }
    // Does the root exist, is it a directory, and can we create files in it?
    Status checkWritable() const;

    Result<QString> normalize(const QString &path) const override;
    Result<FileState> read(const QString &relativePath) const override;

    // Writes the change set whole or not at all. On success the transaction stays open (backups
    // kept) until finalize() or rollback(): a failed validate command can still undo it.
    Status commit(const ChangeSet &changes, const QString &txnId);
    // Drops the backups of a committed transaction; its changes are now permanent.
    void finalize(const QString &txnId);
    // Restores everything a transaction touched (also after a crash, from its record).
    Status rollback(const QString &txnId);
    // Transactions whose records survived a crash, oldest first.
    QStringList openTransactions() const;

private:
    Result<QString> absolutePathFor(const QString &relativePath) const;
    QString txnRecordPath(const QString &txnId) const;
    Status writeRecord(const QString &txnId, const QJsonObject &record);
    Result<QJsonObject> readRecord(const QString &txnId) const;

    QString m_root;
    WorkspaceOptions m_options;
    QHash<QString, QJsonObject> m_open; // this process's open transactions (also without txnDir)
};
