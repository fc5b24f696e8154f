#include "workspace.h"

#include "disksync.h"
#include "faultinjection.h"
#include "parallelfor.h"
#include "workspacepath.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSet>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

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
    const QByteArray name = QFile::encodeName(path);
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    int fd = ::open(name.constData(), flags, mode & 07777);
    if (fd < 0 && errno == EEXIST) { // stale, from an undone attempt
        ::unlink(name.constData());
        fd = ::open(name.constData(), flags, mode & 07777);
    }
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

// The directory part of an absolute path ("/ws/a/b.txt" -> "/ws/a").
QString parentOf(const QString &abs)
{
    return abs.left(std::max<qsizetype>(1, abs.lastIndexOf(QLatin1Char('/'))));
}

QString sideFile(const QString &abs, const QString &txnId, int n, const char *kind)
{
    const qsizetype cut = abs.lastIndexOf(QLatin1Char('/'));
    return abs.left(cut + 1) + QLatin1Char('.') + abs.mid(cut + 1) + QLatin1String(".gr-") +
           txnId.left(8) + QLatin1Char('-') + QString::number(n) + QLatin1Char('.') +
           QLatin1String(kind);
}

// A directory handle only for *at() calls: O_PATH where there is one (Linux), else read-only.
#ifdef O_PATH
constexpr int DirOpenFlags = O_PATH | O_DIRECTORY | O_CLOEXEC;
#else
constexpr int DirOpenFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
#endif

// Directories kept open per PathScope; past this the walk goes by path (no fd shortage).
constexpr qsizetype MaxVerifiedDirs = 256;

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

Workspace::~Workspace()
{
    if (m_slotFd >= 0)
        ::close(m_slotFd);
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
    const QString probe =
        m_root + QStringLiteral("/.ghost-runner-probe-%1").arg(QString::number(::getpid()));
    const int fd = ::open(QFile::encodeName(probe).constData(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return makeError(
            "workspace_not_writable",
            QStringLiteral("workspace %1 is not writable: %2").arg(m_root, errnoText()));
    ::close(fd);
    ::unlink(QFile::encodeName(probe).constData());
    return {};
}

Workspace::PathScope::PathScope(const Workspace &workspace) : m_workspace(workspace)
{
    ++m_workspace.m_scopes;
}

Workspace::PathScope::~PathScope()
{
    if (--m_workspace.m_scopes == 0)
        m_workspace.forgetDirs();
}

void Workspace::forgetDirs() const
{
    for (const int fd : std::as_const(m_dirFds))
        ::close(fd);
    m_dirFds.clear();
}

int Workspace::verifiedDir(const QString &relativeDir, int parentFd, const QString &name) const
{
    const auto it = m_dirFds.constFind(relativeDir);
    if (it != m_dirFds.constEnd())
        return *it;
    if (m_scopes == 0 || m_dirFds.size() >= MaxVerifiedDirs)
        return -1; // the general walk still works, only slower
    const int fd =
        relativeDir.isEmpty()
            ? ::open(QFile::encodeName(m_root).constData(), DirOpenFlags)
            : ::openat(parentFd, QFile::encodeName(name).constData(), DirOpenFlags | O_NOFOLLOW);
    if (fd < 0)
        return -1; // a symlink, a file or nothing: for the general walk to judge
    m_dirFds.insert(relativeDir, fd);
    return fd;
}

Status Workspace::checkSymlinkAt(const QString &path, const QString &clean,
                                 const QString &abs) const
{
    const QString target = QFileInfo(abs).canonicalFilePath();
    // A link that stays inside must still not lead into .git (unless allowed).
    if (!target.isEmpty() &&
        (target == m_root || (target.startsWith(m_root + QLatin1Char('/')) &&
                              WorkspacePath::normalize(target, m_root, m_options.allowGit).ok())))
        return {};
    Error e = makeError("path_outside_workspace",
                        QStringLiteral("path \"%1\" leads out of the workspace through "
                                       "the symlink %2")
                            .arg(path, QDir(m_root).relativeFilePath(abs)));
    e.file = clean;
    return e;
}

Status Workspace::checkOnDisk(const QString &path, const QString &clean, bool checkLast,
                              Location *where) const
{
    // Plain directories first, each verified once per scope and then trusted by its handle.
    qsizetype start = 0;
    int fd = verifiedDir(QString(), -1, QString());
    while (fd >= 0) {
        const qsizetype slash = clean.indexOf(QLatin1Char('/'), start);
        if (slash < 0) {
            const QByteArray name = QFile::encodeName(clean.mid(start));
            struct stat st;
            const bool exists =
                checkLast && ::fstatat(fd, name.constData(), &st, AT_SYMLINK_NOFOLLOW) == 0;
            if (exists && S_ISLNK(st.st_mode)) {
                if (Status s = checkSymlinkAt(path, clean, m_root + QLatin1Char('/') + clean);
                    !s.ok())
                    return s;
            }
            if (where) {
                where->dirFd = fd;
                where->name = name;
                if (checkLast) {
                    where->leaf = exists ? 1 : 0;
                    if (exists)
                        where->leafStat = st;
                }
            }
            return {};
        }
        const int next = verifiedDir(clean.left(slash), fd, clean.mid(start, slash - start));
        if (next < 0)
            break;
        fd = next;
        start = slash + 1;
    }
    // Something else on the way (a symlink, a missing directory): walk the rest of the existing
    // prefix; any symlink on the way must stay inside the root.
    QString current = start == 0 ? m_root : m_root + QLatin1Char('/') + clean.left(start - 1);
    const QStringList parts = clean.mid(start).split(QLatin1Char('/'));
    for (const QString &part : parts) {
        current += QLatin1Char('/') + part;
        const QFileInfo fi(current);
        if (!fi.isSymLink()) {
            if (!fi.exists())
                break; // the rest will be created: nothing there to follow
            continue;
        }
        if (Status s = checkSymlinkAt(path, clean, current); !s.ok())
            return s;
    }
    return {};
}

Result<QString> Workspace::checkedPath(const QString &path, bool checkLast, Location *where) const
{
    Result<QString> clean = WorkspacePath::normalize(path, m_root, m_options.allowGit);
    if (!clean.ok())
        return clean;
    if (Status s = checkOnDisk(path, *clean, checkLast, where); !s.ok())
        return s.error();
    return clean;
}

Result<QString> Workspace::normalize(const QString &path) const
{
    const PathScope scope(*this);
    return checkedPath(path, true, nullptr);
}

Result<QString> Workspace::absolutePathFor(const QString &relativePath, Location *where) const
{
    const PathScope scope(*this);
    const Result<QString> clean = checkedPath(relativePath, true, where);
    if (!clean.ok())
        return clean;
    return m_root + QLatin1Char('/') + *clean;
}

Result<FileState> Workspace::read(const QString &relativePath) const
{
    const PathScope scope(*this);
    Location at;
    const Result<QString> clean = checkedPath(relativePath, false, &at);
    if (!clean.ok())
        return clean.error();
    return readAt(relativePath, *clean, at);
}

QList<Result<FileState>> Workspace::readMany(const QStringList &relativePaths) const
{
    // The checks walk (and remember) directories, so they are made here, one after another;
    // the reads themselves, through the handles the checks left open, then go a few at a time.
    const PathScope scope(*this);
    QList<Result<FileState>> out;
    out.reserve(relativePaths.size());
    std::vector<std::pair<QString, Location>> located(size_t(relativePaths.size()));
    std::vector<qsizetype> toRead;
    for (qsizetype i = 0; i < relativePaths.size(); ++i) {
        auto &[cleanPath, at] = located[size_t(i)];
        Result<QString> clean = checkedPath(relativePaths.at(i), false, &at);
        if (!clean.ok()) {
            out.append(clean.error());
            continue;
        }
        cleanPath = std::move(*clean);
        out.append(FileState());
        toRead.push_back(i);
    }
    Result<FileState> *const cells = out.data(); // detached here, not on the threads
    ParallelFor::run(
        qsizetype(toRead.size()),
        [&](qsizetype k) {
            const qsizetype i = toRead[size_t(k)];
            const auto &[cleanPath, at] = located[size_t(i)];
            cells[i] = readAt(relativePaths.at(i), cleanPath, at);
        },
        16);
    return out;
}

Result<FileState> Workspace::readAt(const QString &relativePath, const QString &clean,
                                    Location at) const
{
    const QByteArray abs = QFile::encodeName(m_root + QLatin1Char('/') + clean);
    FileState s;
    struct stat st;
    int rc = -1;
    if (at.dirFd >= 0) {
        rc = ::fstatat(at.dirFd, at.name.constData(), &st, AT_SYMLINK_NOFOLLOW);
        if (rc == 0 && S_ISLNK(st.st_mode)) {
            // The file itself is a symlink: allowed when it stays inside; read through it.
            if (Status c = checkSymlinkAt(relativePath, clean, QFile::decodeName(abs)); !c.ok())
                return c.error();
            at.dirFd = -1;
            rc = ::stat(abs.constData(), &st);
        }
    } else {
        rc = ::stat(abs.constData(), &st);
    }
    if (rc != 0)
        return s; // missing: not an error
    if (!S_ISREG(st.st_mode)) {
        Error e = makeError("path_invalid",
                            QStringLiteral("path \"%1\" is not a regular file").arg(relativePath));
        e.file = relativePath;
        return e;
    }
    // O_NOFOLLOW: a symlink swapped in since the check is refused, not followed; O_NONBLOCK: a
    // FIFO swapped in does not hang the open.
    const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    const int fd = at.dirFd >= 0 ? ::openat(at.dirFd, at.name.constData(), flags | O_NOFOLLOW)
                                 : ::open(abs.constData(), flags);
    auto failed = [&] {
        Error e = makeError("read_failed",
                            QStringLiteral("cannot read %1: %2").arg(relativePath, errnoText()));
        e.file = relativePath;
        return e;
    };
    if (fd < 0)
        return failed();
    // Reads the size stat gave, in as few read() calls as the kernel allows. Whatever was swapped
    // in since cannot be followed (O_NOFOLLOW) or block (O_NONBLOCK); a directory fails to read.
    QByteArray data(qsizetype(st.st_size), Qt::Uninitialized);
    qsizetype got = 0;
    while (got < data.size()) {
        const ssize_t n = ::read(fd, data.data() + got, size_t(data.size() - got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int saved = errno;
            ::close(fd);
            errno = saved;
            return failed();
        }
        if (n == 0)
            break; // shrank meanwhile
        got += n;
    }
    ::close(fd);
    data.truncate(got);
    s.exists = true;
    s.contents = std::move(data);
    s.mode = int(st.st_mode & 07777);
    return s;
}

QString Workspace::txnRecordPath(const QString &txnId) const
{
    return m_options.txnDir + QLatin1Char('/') + txnId + QStringLiteral(".json");
}

namespace {
// The slot's layout: "GRTXN1 <length> <md5 of the JSON>\n" then the JSON. A record torn by a
// crash fails the check and counts as none: it was being written before any rename, so there
// is nothing of its transaction to undo.
constexpr char kSlotMagic[] = "GRTXN1";

QByteArray slotBytes(const QByteArray &json)
{
    return QByteArray(kSlotMagic) + ' ' + QByteArray::number(json.size()) + ' ' +
           QCryptographicHash::hash(json, QCryptographicHash::Md5).toHex() + '\n' + json;
}
} // namespace

int Workspace::slotFd() const
{
    if (m_slotFd >= 0 || m_options.txnDir.isEmpty())
        return m_slotFd;
    QDir().mkpath(m_options.txnDir);
    const QByteArray path = QFile::encodeName(m_options.txnDir + QStringLiteral("/current.rec"));
    int fd = ::open(path.constData(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = ::open(path.constData(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 && (::fsync(fd) != 0 || !fsyncPath(m_options.txnDir, true))) {
            ::close(fd);
            ::unlink(path.constData());
            fd = -1;
        }
    }
    m_slotFd = fd;
    if (const std::optional<QJsonObject> r = fd >= 0 ? readSlot() : std::nullopt)
        m_slotTxn = r->value("txn").toString();
    return m_slotFd;
}

std::optional<QJsonObject> Workspace::readSlot() const
{
    if (m_slotFd < 0)
        return std::nullopt;
    QByteArray buf;
    struct stat st;
    if (::fstat(m_slotFd, &st) != 0 || st.st_size <= 0)
        return std::nullopt;
    buf.resize(qsizetype(st.st_size));
    qsizetype got = 0;
    while (got < buf.size()) {
        const ssize_t n = ::pread(m_slotFd, buf.data() + got, size_t(buf.size() - got), got);
        if (n <= 0)
            break;
        got += n;
    }
    buf.truncate(got);
    const qsizetype nl = buf.indexOf('\n');
    const QList<QByteArray> head = buf.left(nl).split(' ');
    if (nl < 0 || head.size() != 3 || head.at(0) != kSlotMagic)
        return std::nullopt;
    bool ok = false;
    const qsizetype len = head.at(1).toLongLong(&ok);
    if (!ok || len <= 0 || nl + 1 + len > buf.size())
        return std::nullopt;
    const QByteArray json = buf.mid(nl + 1, len);
    if (QCryptographicHash::hash(json, QCryptographicHash::Md5).toHex() != head.at(2))
        return std::nullopt;
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (o.value("txn").toString().isEmpty())
        return std::nullopt;
    return o;
}

void Workspace::dropRecord(const QString &txnId)
{
    m_open.remove(txnId);
    if (m_options.txnDir.isEmpty())
        return;
    if (slotFd() >= 0 && m_slotTxn == txnId) {
        // Emptied, not synced: should a crash bring the record back, its delivery is settled
        // (finalize again: the backups are gone) or taken back (rolling back again finds
        // nothing left to undo), and the next commit overwrites it.
        const QByteArray empty = slotBytes(QByteArray());
        if (::pwrite(m_slotFd, empty.constData(), size_t(empty.size()), 0) == empty.size())
            m_slotTxn.clear();
        return;
    }
    QFile::remove(txnRecordPath(txnId));
}

Status Workspace::writeRecord(const QString &txnId, const QJsonObject &record)
{
    m_open.insert(txnId, record);
    if (m_options.txnDir.isEmpty())
        return {};
    // The slot, when it is free or already this transaction's: one write and one fdatasync.
    if (slotFd() >= 0 && (m_slotTxn.isEmpty() || m_slotTxn == txnId)) {
        const QByteArray bytes = slotBytes(QJsonDocument(record).toJson(QJsonDocument::Compact));
        if (::pwrite(m_slotFd, bytes.constData(), size_t(bytes.size()), 0) != bytes.size() ||
            !flushToDisk(m_slotFd))
            return makeError(
                "write_failed",
                QStringLiteral("cannot write transaction record: %1").arg(errnoText()));
        m_slotTxn = txnId;
        return {};
    }
    QDir().mkpath(m_options.txnDir);
    QSaveFile f(txnRecordPath(txnId));
    if (!f.open(QIODevice::WriteOnly))
        return makeError(
            "write_failed",
            QStringLiteral("cannot write transaction record: %1").arg(f.errorString()));
    f.write(QJsonDocument(record).toJson(QJsonDocument::Compact));
    if (!f.commit()) // QSaveFile fsyncs before its rename
        return makeError(
            "write_failed",
            QStringLiteral("cannot write transaction record: %1").arg(f.errorString()));
    fsyncPath(m_options.txnDir, true);
    return {};
}

Result<QJsonObject> Workspace::readRecord(const QString &txnId) const
{
    if (m_open.contains(txnId))
        return m_open.value(txnId);
    if (!m_options.txnDir.isEmpty() && slotFd() >= 0 && m_slotTxn == txnId) {
        if (const std::optional<QJsonObject> r = readSlot())
            return *r;
    }
    QFile f(txnRecordPath(txnId));
    if (m_options.txnDir.isEmpty() || !f.open(QIODevice::ReadOnly))
        return makeError("txn_missing", QStringLiteral("no transaction record for %1").arg(txnId));
    return QJsonDocument::fromJson(f.readAll()).object();
}

Status Workspace::commit(const ChangeSet &changes, const QString &txnId)
{
    // Every path is checked again, its directories verified afresh: the disk may have changed
    // since the plan read it.
    const PathScope scope(*this);
    forgetDirs();
    struct Op
    {
        QString target; // absolute
        QString rel;
        bool write = false;
        QByteArray contents;
        std::optional<int> mode; // asked for by the change, or (renames) the source's
        QString temp;
        QString backup;
        bool existed = false;
        int leaf = -1; // what the path check found there (Location::leaf), -1: not known
        struct stat leafStat;
    };
    QList<Op> ops;
    ops.reserve(changes.changes.size());
    for (const FileChange &c : changes.changes) {
        Location at;
        const Result<QString> abs = absolutePathFor(c.path, &at);
        if (!abs.ok())
            return abs.error();
        Op op;
        op.leaf = at.leaf;
        op.leafStat = at.leafStat;
        op.target = *abs;
        op.rel = c.path;
        std::optional<QString> oldAbs;
        if (c.action == FileChange::Action::Renamed) {
            const Result<QString> from = absolutePathFor(c.oldPath);
            if (!from.ok())
                return from.error();
            oldAbs = *from;
        }
        if (c.action != FileChange::Action::Deleted) {
            op.write = true;
            op.contents = c.contents;
            op.mode = c.mode;
            // A renamed file keeps its source's mode; others keep the target's (read below).
            struct stat st;
            if (!op.mode && oldAbs)
                op.mode = ::stat(QFile::encodeName(*oldAbs).constData(), &st) == 0
                              ? int(st.st_mode & 0777)
                              : 0644;
        }
        ops.append(op);
        if (oldAbs) {
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

    QSet<QString> knownDirs; // parents already found to be directories in this commit
    int n = 0;
    for (Op &op : ops) {
        ++n;
        // Parent directories, created one level at a time so rollback can remove them.
        const QString parent = parentOf(op.target);
        if (!knownDirs.contains(parent)) {
            if (!QFileInfo(parent).isDir()) {
                QStringList missing;
                QString d = parent;
                while (d.size() > m_root.size() && !QFileInfo::exists(d)) {
                    missing.prepend(d);
                    d = QFileInfo(d).absolutePath();
                }
                if (!QFileInfo(d).isDir())
                    return fail(ioError(QStringLiteral("cannot create a directory for %1 because "
                                                       "%2 is not a directory")
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
            knownDirs.insert(parent);
        }
        const QByteArray target = QFile::encodeName(op.target);
        int currentMode = 0644;
        struct stat st;
        // The path check has just looked (no file of this commit has been renamed yet).
        const bool exists = op.leaf >= 0 ? op.leaf == 1 : ::lstat(target.constData(), &st) == 0;
        if (op.leaf == 1)
            st = op.leafStat;
        if (exists) {
            if (S_ISDIR(st.st_mode))
                return fail(ioError(
                    QStringLiteral("cannot replace %1: it is a directory").arg(op.rel), op.rel));
            if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
                Error e = makeError("path_invalid",
                                    QStringLiteral("path \"%1\" is not a regular file (a device, "
                                                   "FIFO or socket)")
                                        .arg(op.rel));
                e.file = op.rel;
                return fail(e);
            }
            currentMode = int(st.st_mode & 0777);
            struct stat followed;
            if (S_ISLNK(st.st_mode))
                currentMode = ::stat(target.constData(), &followed) == 0
                                  ? int(followed.st_mode & 0777)
                                  : 0644;
            op.existed = true;
            op.backup = sideFile(op.target, txnId, n, "bak"); // linked below
        }
        if (op.write) {
            op.temp = sideFile(op.target, txnId, n, "tmp");
            op.mode = op.mode.value_or(currentMode);
        }
        entries.append(QJsonObject{{"target", op.target},
                                   {"temp", op.temp},
                                   {"backup", op.backup},
                                   {"existed", op.existed}});
    }

    // Each original's backup (a hard link) and each new contents' temporary file, fsynced; a
    // few files at a time. A failure is reported for the first such file in order; rollback()
    // removes every temporary file and backup link.
    enum Failed { None, Backup, Write };
    std::vector<std::pair<Failed, int>> failures(size_t(ops.size()), {None, 0});
    const QList<Op> &staged = ops; // const: no detach checks from several threads
    const auto stageOne = [&](qsizetype i) {
        const Op &op = staged[i];
        if (!op.backup.isEmpty()) {
            const QByteArray target = QFile::encodeName(op.target);
            const QByteArray backup = QFile::encodeName(op.backup);
            bool linked = ::link(target.constData(), backup.constData()) == 0;
            if (!linked && errno == EEXIST) { // stale, from an undone attempt
                ::unlink(backup.constData());
                linked = ::link(target.constData(), backup.constData()) == 0;
            }
            if (!linked) {
                failures[size_t(i)] = {Backup, errno ? errno : EIO};
                return;
            }
        }
        if (op.write && !writeWholeFile(op.temp, op.contents, *op.mode))
            failures[size_t(i)] = {Write, errno ? errno : EIO};
    };
    // The record goes to disk while the files do (two syncs at once instead of one after the
    // other): both must be there before the first rename, and neither needs the other. A
    // record that names backups and temporary files not made yet is safe to roll back: what
    // is missing is skipped, and no original has been replaced.
    Status recorded;
    ParallelFor::run(
        2,
        [&](qsizetype part) {
            if (part == 0)
                recorded = saveRecord();
            else
                ParallelFor::run(ops.size(), stageOne);
        },
        1);
    for (qsizetype i = 0; i < ops.size(); ++i) {
        if (failures[size_t(i)].first == Backup) {
            // No backup of ours there: rollback must not take whatever has that name for one.
            QJsonObject e = entries.at(i).toObject();
            e.insert("backup", QString());
            entries.replace(i, e);
        }
    }
    for (qsizetype i = 0; i < ops.size(); ++i) {
        const auto [what, error] = failures[size_t(i)];
        if (what == None)
            continue;
        errno = error;
        const QString &rel = ops[i].rel;
        return fail(ioError(what == Backup ? QStringLiteral("cannot keep a backup of %1").arg(rel)
                                           : QStringLiteral("cannot write %1").arg(rel),
                            rel));
    }
    if (!recorded.ok())
        return fail(recorded.error());

    // The point of no return for each file is its rename; the record makes a crash here undoable.
    // The first in order, then the others a few at a time.
    std::vector<int> renameErrors(size_t(ops.size()), 0);
    const auto replace = [&](qsizetype i) {
        const Op &op = staged[i];
        const QByteArray target = QFile::encodeName(op.target);
        if (op.write) {
            if (::rename(QFile::encodeName(op.temp).constData(), target.constData()) != 0)
                renameErrors[size_t(i)] = errno ? errno : EIO;
        } else if (::unlink(target.constData()) != 0 && errno != ENOENT) {
            renameErrors[size_t(i)] = errno ? errno : EIO;
        }
    };
    if (!ops.isEmpty()) {
        replace(0);
        if (renameErrors[0] == 0) {
            FaultInjection::crashPoint("workspace-mid-commit");
            ParallelFor::run(ops.size() - 1, [&](qsizetype i) { replace(i + 1); });
        }
    }
    for (qsizetype i = 0; i < ops.size(); ++i) {
        if (renameErrors[size_t(i)] == 0)
            continue;
        errno = renameErrors[size_t(i)];
        const Op &op = ops[i];
        return fail(ioError(op.write ? QStringLiteral("cannot replace %1").arg(op.rel)
                                     : QStringLiteral("cannot delete %1").arg(op.rel),
                            op.rel));
    }
    QSet<QString> dirs;
    for (const Op &op : ops)
        dirs.insert(parentOf(op.target));
    for (const QString &d : dirs)
        fsyncPath(d, true);
    return {};
}

void Workspace::finalize(const QString &txnId)
{
    const Result<QJsonObject> record = readRecord(txnId);
    if (!record.ok())
        return;
    std::vector<QByteArray> backups;
    for (const QJsonValue &v : record->value("entries").toArray()) {
        const QString backup = v.toObject().value("backup").toString();
        if (!backup.isEmpty())
            backups.push_back(QFile::encodeName(backup));
    }
    ParallelFor::run(qsizetype(backups.size()),
                     [&](qsizetype i) { ::unlink(backups[size_t(i)].constData()); });
    dropRecord(txnId);
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
                firstError =
                    ioError(QStringLiteral("cannot restore %1").arg(e.value("target").toString()),
                            QString());
        } else if (!e.value("existed").toBool()) {
            ::unlink(target.constData());
        }
    }
    const QJsonArray dirs = record->value("created_dirs").toArray();
    for (qsizetype i = dirs.size() - 1; i >= 0; --i)
        ::rmdir(QFile::encodeName(dirs.at(i).toString()).constData());
    dropRecord(txnId);
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
        QDir(m_options.txnDir)
            .entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Time | QDir::Reversed);
    for (const QFileInfo &fi : files)
        out.append(fi.completeBaseName());
    if (slotFd() >= 0 && !m_slotTxn.isEmpty() && !out.contains(m_slotTxn))
        out.append(m_slotTxn); // the newest
    return out;
}
