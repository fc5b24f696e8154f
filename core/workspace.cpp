#include "workspace.h"

#include "faultinjection.h"
#include "workspacepath.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSet>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

QString errnoText() { return QString::fromLocal8Bit(std::strerror(errno)); }

Error ioError(const QString &what, const QString &file)
{
    Error e = makeError("write_failed", QStringLiteral("%1: %2").arg(what, errnoText()));
    e.file = file;
    return e;
}

bool fsyncPath(const QString &path, bool directory)
{
    const int fd = ::open(QFile::encodeName(path).constData(),
                          (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

bool writeWholeFile(const QString &path, const QByteArray &data, int mode)
{
    const int fd = ::open(QFile::encodeName(path).constData(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
    if (fd < 0)
        return false;
    const char *p = data.constData();
    qsizetype left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, size_t(left));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int saved = errno;
            ::close(fd);
            errno = saved;
            return false;
        }
        p += n;
        left -= n;
    }
    // O_CREAT honours the umask; the patch's mode is what the user asked for.
    if (::fchmod(fd, mode & 07777) != 0 || ::fsync(fd) != 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        return false;
    }
    return ::close(fd) == 0;
}

QString sideFile(const QString &abs, const QString &txnId, int n, const char *kind)
{
    const QFileInfo fi(abs);
    return fi.absolutePath() + QStringLiteral("/.%1.gr-%2-%3.%4")
                                   .arg(fi.fileName(), txnId.left(8), QString::number(n),
                                        QLatin1String(kind));
}

bool existsNoFollow(const QString &abs)
{
    struct stat st;
    return ::lstat(QFile::encodeName(abs).constData(), &st) == 0;
}

// Are a and b links to the same inode (not following a final symlink)?
bool sameFile(const QString &a, const QByteArray &b)
{
    struct stat sa;
    struct stat sb;
    return ::lstat(QFile::encodeName(a).constData(), &sa) == 0 &&
           ::lstat(b.constData(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

} // namespace

Workspace::Workspace(const QString &root, WorkspaceOptions options) : m_options(std::move(options))
{
    const QFileInfo fi(root);
    const QString canonical = fi.canonicalFilePath();
    m_root = canonical.isEmpty() ? QDir::cleanPath(fi.absoluteFilePath()) : canonical;
}

Status Workspace::checkWritable() const
{
    const QFileInfo fi(m_root);
    if (!fi.exists())
        return makeError("workspace_missing",
                         QStringLiteral("workspace %1 does not exist; create it or pass "
                                        "--workspace DIR")
                             .arg(m_root));
    if (!fi.isDir())
        return makeError("workspace_missing",
                         QStringLiteral("workspace %1 is not a directory").arg(m_root));
    const QString probe = m_root + QStringLiteral("/.ghost-runner-probe-%1")
                                       .arg(QString::number(::getpid()));
    const int fd = ::open(QFile::encodeName(probe).constData(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return makeError("workspace_not_writable",
                         QStringLiteral("workspace %1 is not writable: %2")
                             .arg(m_root, errnoText()));
    ::close(fd);
    ::unlink(QFile::encodeName(probe).constData());
    return {};
}

Result<QString> Workspace::normalize(const QString &path) const
{
    Result<QString> clean = WorkspacePath::normalize(path, m_root, m_options.allowGit);
    if (!clean.ok())
        return clean;
    // Walk the existing prefix: any symlink on the way must stay inside the root.
    const QStringList parts = clean->split(QLatin1Char('/'));
    QString current = m_root;
    for (const QString &part : parts) {
        current += QLatin1Char('/') + part;
        const QFileInfo fi(current);
        if (!fi.isSymLink()) {
            if (!fi.exists())
                break; // the rest will be created: nothing there to follow
            continue;
        }
        const QString target = fi.canonicalFilePath();
        // A link that stays inside must still not lead into .git (unless allowed).
        if (target.isEmpty() ||
            !(target == m_root ||
              (target.startsWith(m_root + QLatin1Char('/')) &&
               WorkspacePath::normalize(target, m_root, m_options.allowGit).ok()))) {
            Error e = makeError("path_outside_workspace",
                                QStringLiteral("path \"%1\" leads out of the workspace through "
                                               "the symlink %2")
                                    .arg(path, QDir(m_root).relativeFilePath(current)));
            e.file = *clean;
            return e;
        }
    }
    return clean;
}

Result<QString> Workspace::absolutePathFor(const QString &relativePath) const
{
    Result<QString> clean = normalize(relativePath);
    if (!clean.ok())
        return clean;
    return m_root + QLatin1Char('/') + *clean;
}

Result<FileState> Workspace::read(const QString &relativePath) const
{
    const Result<QString> abs = absolutePathFor(relativePath);
    if (!abs.ok())
        return abs.error();
    FileState s;
    struct stat st;
    if (::stat(QFile::encodeName(*abs).constData(), &st) != 0)
        return s; // missing: not an error
    if (!S_ISREG(st.st_mode)) {
        Error e = makeError("path_invalid",
                            QStringLiteral("path \"%1\" is not a regular file").arg(relativePath));
        e.file = relativePath;
        return e;
    }
    QFile f(*abs);
    if (!f.open(QIODevice::ReadOnly)) {
        Error e = makeError("read_failed", QStringLiteral("cannot read %1: %2")
                                               .arg(relativePath, f.errorString()));
        e.file = relativePath;
        return e;
    }
    s.exists = true;
    s.contents = f.readAll();
    s.mode = int(st.st_mode & 07777);
    return s;
}

QString Workspace::txnRecordPath(const QString &txnId) const
{
    return m_options.txnDir + QLatin1Char('/') + txnId + QStringLiteral(".json");
}

Status Workspace::writeRecord(const QString &txnId, const QJsonObject &record)
{
    m_open.insert(txnId, record);
    if (m_options.txnDir.isEmpty())
        return {};
    QDir().mkpath(m_options.txnDir);
    QSaveFile f(txnRecordPath(txnId));
    if (!f.open(QIODevice::WriteOnly))
        return makeError("write_failed", QStringLiteral("cannot write transaction record: %1")
                                             .arg(f.errorString()));
    f.write(QJsonDocument(record).toJson(QJsonDocument::Compact));
    if (!f.commit()) // QSaveFile fsyncs before its rename
        return makeError("write_failed", QStringLiteral("cannot write transaction record: %1")
                                             .arg(f.errorString()));
    fsyncPath(m_options.txnDir, true);
    return {};
}

Result<QJsonObject> Workspace::readRecord(const QString &txnId) const
{
    if (m_open.contains(txnId))
        return m_open.value(txnId);
    QFile f(txnRecordPath(txnId));
    if (m_options.txnDir.isEmpty() || !f.open(QIODevice::ReadOnly))
        return makeError("txn_missing", QStringLiteral("no transaction record for %1").arg(txnId));
    return QJsonDocument::fromJson(f.readAll()).object();
}

Status Workspace::commit(const ChangeSet &changes, const QString &txnId)
{
    struct Op
    {
        QString target;  // absolute
        QString rel;
        bool write = false;
        QByteArray contents;
        int mode = 0644;
        QString temp;
        QString backup;
        bool existed = false;
    };
    QList<Op> ops;
    for (const FileChange &c : changes.changes) {
        const Result<QString> abs = absolutePathFor(c.path);
        if (!abs.ok())
            return abs.error();
        Op op;
        op.target = *abs;
        op.rel = c.path;
        if (c.action != FileChange::Action::Deleted) {
            op.write = true;
            op.contents = c.contents;
            int mode = 0644;
            const QString modeSource =
                c.action == FileChange::Action::Renamed ? c.oldPath : c.path;
            struct stat st;
            if (::stat(QFile::encodeName(m_root + QLatin1Char('/') + modeSource).constData(),
                       &st) == 0)
                mode = int(st.st_mode & 0777);
            op.mode = c.mode.value_or(mode);
        }
        ops.append(op);
        if (c.action == FileChange::Action::Renamed) {
            const Result<QString> oldAbs = absolutePathFor(c.oldPath);
            if (!oldAbs.ok())
                return oldAbs.error();
            Op del;
            del.target = *oldAbs;
            del.rel = c.oldPath;
            ops.append(del);
        }
    }

    // Nothing on disk has changed yet; every failure below is undone by rollback().
    QJsonArray entries;
    QJsonArray createdDirs;
    QJsonObject record{{"txn", txnId}, {"root", m_root}};
    auto saveRecord = [&] {
        record.insert("entries", entries);
        record.insert("created_dirs", createdDirs);
        return writeRecord(txnId, record);
    };
    auto fail = [&](const Error &e) -> Status {
        (void)saveRecord(); // rollback works from the in-memory copy even if this fails
        if (const Status undone = rollback(txnId); !undone.ok()) {
            Error both = e;
            both.message +=
                QStringLiteral(" (undoing it failed too: %1)").arg(undone.error().message);
            return both;
        }
        return e;
    };

    int n = 0;
    for (Op &op : ops) {
        ++n;
        // Parent directories, created one level at a time so rollback can remove them.
        const QString parent = QFileInfo(op.target).absolutePath();
        if (!QFileInfo(parent).isDir()) {
            QStringList missing;
            QString d = parent;
            while (d.size() > m_root.size() && !QFileInfo::exists(d)) {
                missing.prepend(d);
                d = QFileInfo(d).absolutePath();
            }
            if (!QFileInfo(d).isDir())
                return fail(ioError(QStringLiteral("cannot create a directory for %1 because %2 "
                                                   "is not a directory")
                                        .arg(op.rel, QDir(m_root).relativeFilePath(d)),
                                    op.rel));
            for (const QString &m : missing) {
                if (::mkdir(QFile::encodeName(m).constData(), 0755) != 0)
                    return fail(ioError(QStringLiteral("cannot create directory %1")
                                            .arg(QDir(m_root).relativeFilePath(m)),
                                        op.rel));
                createdDirs.append(m);
            }
        }
        struct stat st;
        if (::lstat(QFile::encodeName(op.target).constData(), &st) == 0) {
            if (S_ISDIR(st.st_mode))
                return fail(ioError(QStringLiteral("cannot replace %1: it is a directory")
                                        .arg(op.rel),
                                    op.rel));
            if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
                Error e = makeError("path_invalid",
                                    QStringLiteral("path \"%1\" is not a regular file (a device, "
                                                   "FIFO or socket)")
                                        .arg(op.rel));
                e.file = op.rel;
                return fail(e);
            }
            op.existed = true;
            op.backup = sideFile(op.target, txnId, n, "bak");
            ::unlink(QFile::encodeName(op.backup).constData()); // stale, from an undone attempt
            if (::link(QFile::encodeName(op.target).constData(),
                       QFile::encodeName(op.backup).constData()) != 0) {
                op.backup.clear();
                return fail(ioError(QStringLiteral("cannot keep a backup of %1").arg(op.rel),
                                    op.rel));
            }
        }
        if (op.write) {
            op.temp = sideFile(op.target, txnId, n, "tmp");
            ::unlink(QFile::encodeName(op.temp).constData());
            if (!writeWholeFile(op.temp, op.contents, op.mode)) {
                const Error e = ioError(QStringLiteral("cannot write %1").arg(op.rel), op.rel);
                ::unlink(QFile::encodeName(op.temp).constData());
                if (!op.backup.isEmpty())
                    ::unlink(QFile::encodeName(op.backup).constData());
                return fail(e);
            }
        }
        entries.append(QJsonObject{{"target", op.target},
                                   {"temp", op.temp},
                                   {"backup", op.backup},
                                   {"existed", op.existed}});
    }
    if (Status s = saveRecord(); !s.ok())
        return fail(s.error());

    // The point of no return for each file is its rename; the record makes a crash here undoable.
    bool first = true;
    for (const Op &op : ops) {
        const QByteArray target = QFile::encodeName(op.target);
        if (op.write) {
            if (::rename(QFile::encodeName(op.temp).constData(), target.constData()) != 0)
                return fail(ioError(QStringLiteral("cannot replace %1").arg(op.rel), op.rel));
        } else if (::unlink(target.constData()) != 0 && errno != ENOENT) {
            return fail(ioError(QStringLiteral("cannot delete %1").arg(op.rel), op.rel));
        }
        if (first)
            FaultInjection::crashPoint("workspace-mid-commit");
        first = false;
    }
    QSet<QString> dirs;
    for (const Op &op : ops)
        dirs.insert(QFileInfo(op.target).absolutePath());
    for (const QString &d : dirs)
        fsyncPath(d, true);
    return {};
}

void Workspace::finalize(const QString &txnId)
{
    const Result<QJsonObject> record = readRecord(txnId);
    if (!record.ok())
        return;
    for (const QJsonValue &v : record->value("entries").toArray()) {
        const QString backup = v.toObject().value("backup").toString();
        if (!backup.isEmpty())
            ::unlink(QFile::encodeName(backup).constData());
    }
    m_open.remove(txnId);
    if (!m_options.txnDir.isEmpty())
        QFile::remove(txnRecordPath(txnId));
}

Status Workspace::rollback(const QString &txnId)
{
    const Result<QJsonObject> record = readRecord(txnId);
    if (!record.ok())
        return record.error();
    Error firstError;
    const QJsonArray entries = record->value("entries").toArray();
    for (qsizetype i = entries.size() - 1; i >= 0; --i) {
        const QJsonObject e = entries.at(i).toObject();
        const QByteArray target = QFile::encodeName(e.value("target").toString());
        const QString backup = e.value("backup").toString();
        const QString temp = e.value("temp").toString();
        if (!temp.isEmpty())
            ::unlink(QFile::encodeName(temp).constData());
        if (!backup.isEmpty() && sameFile(backup, target)) {
            // Not renamed yet (failure or crash before this file's turn): rename() between two
            // links of one inode does nothing, so drop the backup link instead.
            ::unlink(QFile::encodeName(backup).constData());
        } else if (!backup.isEmpty() && existsNoFollow(backup)) {
            if (::rename(QFile::encodeName(backup).constData(), target.constData()) != 0 &&
                firstError.isNull())
                firstError = ioError(QStringLiteral("cannot restore %1")
                                         .arg(e.value("target").toString()),
                                     QString());
        } else if (!e.value("existed").toBool()) {
            ::unlink(target.constData());
        }
    }
    const QJsonArray dirs = record->value("created_dirs").toArray();
    for (qsizetype i = dirs.size() - 1; i >= 0; --i)
        ::rmdir(QFile::encodeName(dirs.at(i).toString()).constData());
    m_open.remove(txnId);
    if (!m_options.txnDir.isEmpty())
        QFile::remove(txnRecordPath(txnId));
    if (!firstError.isNull())
        return firstError;
    return {};
}

QStringList Workspace::openTransactions() const
{
    if (m_options.txnDir.isEmpty())
        return {};
    QStringList out;
    const QFileInfoList files =
        QDir(m_options.txnDir).entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Time |
                                                                                      QDir::Reversed);
    for (const QFileInfo &fi : files)
        out.append(fi.completeBaseName());
    return out;
}
