#pragma once
// The only code that writes workspace files. It resolves paths inside the root (no '..', no
// symlink escapes, no device files), and commits a ChangeSet atomically: every new file is
// written to a temporary file beside its target and fsynced, originals are kept as hard-linked
// backups, and only then are the renames done. A transaction record under txnDir lets a
// restarted process roll back a commit that a crash interrupted: the newest transaction's is
// rewritten in place in one slot file (current.rec: one fdatasync, and no file created or
// removed per delivery); a transaction open at the same time as another gets <txn>.json.

#include "changeset.h"
#include "filesource.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <optional>
#include <sys/stat.h>

struct WorkspaceOptions
{
    bool allowGit = false; // may patches touch .git/?
    QString txnDir;        // where transaction records live; empty: no crash recovery
};

class Workspace final : public FileSource
{
public:
    explicit Workspace(const QString &root, WorkspaceOptions options = WorkspaceOptions());
    ~Workspace() override;
    Workspace(const Workspace &) = delete;
    Workspace &operator=(const Workspace &) = delete;

    QString root() const { return m_root; }
    // Does the root exist, is it a directory, and can we create files in it?
    Status checkWritable() const;

    Result<QString> normalize(const QString &path) const override;
    Result<FileState> read(const QString &relativePath) const override;
    // The paths checked one after another, then read a few at a time.
    QList<Result<FileState>> readMany(const QStringList &relativePaths) const override;

    // While one is open (a plan, a commit), each directory on the way to a file is checked once:
    // one found to be a real directory inside the root (no symlink) is opened with O_NOFOLLOW and
    // files in it are then looked up relative to that handle, so a symlink swapped in for it
    // later cannot lead out. A file's own name is still checked every time. Scopes nest; the
    // outermost one forgets the directories (they may change between deliveries). Not for
    // concurrent use: one thread works through a Workspace at a time.
    class PathScope
    {
    public:
        explicit PathScope(const Workspace &workspace);
        ~PathScope();
        PathScope(const PathScope &) = delete;
        PathScope &operator=(const PathScope &) = delete;

    private:
        const Workspace &m_workspace;
    };

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
    // Where a clean relative path lives: its parent directory's verified handle and its own name,
    // or dirFd -1 when the way there is not plain directories (an inside symlink, a missing part).
    struct Location
    {
        int dirFd = -1;
        QByteArray name;
        int leaf = -1; // checkLast: 1 when the name exists (then in leafStat), 0 when not
        struct stat leafStat;
    };
    // WorkspacePath::normalize, then checkOnDisk(): the clean relative path (within a PathScope).
    Result<QString> checkedPath(const QString &path, bool checkLast, Location *where) const;
    // Normalizes and checks like normalize(), and says what it found there.
    Result<QString> absolutePathFor(const QString &relativePath, Location *where = nullptr) const;
    // The symlink checks of normalize() for an already lexically clean path; checkLast: also
    // look at the last component (read() does that itself, with O_NOFOLLOW).
    Status checkOnDisk(const QString &path, const QString &clean, bool checkLast,
                       Location *where) const;
    Status checkSymlinkAt(const QString &path, const QString &clean, const QString &abs) const;
    // read() after its checks: only system calls on `at` and the path, so safe on any thread
    // while the PathScope that verified `at` is open.
    Result<FileState> readAt(const QString &relativePath, const QString &clean, Location at) const;
    int verifiedDir(const QString &relativeDir, int parentFd, const QString &name) const;
    void forgetDirs() const;
    QString txnRecordPath(const QString &txnId) const;
    Status writeRecord(const QString &txnId, const QJsonObject &record);
    Result<QJsonObject> readRecord(const QString &txnId) const;
    void dropRecord(const QString &txnId);
    // The slot: opened (and created, durably) on first use; its record, if intact.
    int slotFd() const;
    std::optional<QJsonObject> readSlot() const;

    QString m_root;
    WorkspaceOptions m_options;
    QHash<QString, QJsonObject> m_open; // this process's open transactions (also without txnDir)
    mutable int m_slotFd = -1;
    mutable QString m_slotTxn;            // whose record the slot holds (empty: none); read at open
    mutable QHash<QString, int> m_dirFds; // verified real directories in the open PathScope
    mutable int m_scopes = 0;
};
