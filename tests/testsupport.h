#pragma once
// Shared test fixtures: temporary trees, the real ghost-runner process, blocking HTTP calls.

#include "changeset.h"
#include "result.h"
#include "stagedtree.h"

#include <QByteArray>
#include <QMap>
#include <QString>
#include <QStringList>
#include <functional>

namespace TestSupport {
// Built with AddressSanitizer: its allocator keeps freed memory in quarantine and maps shadow
// memory, so resident-memory bounds measure ASan, not us. Those checks run in the native build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif
// Writes files (relative path -> contents) under dir, creating parent directories.
void writeTree(const QString &dir, const QMap<QString, QByteArray> &files);
// Reads every regular file under dir (relative path -> contents); symlinks reported as "->target".
QMap<QString, QByteArray> readTree(const QString &dir);
QByteArray readFile(const QString &path);
// The tree (relative path -> contents) after a change set, as Workspace::commit would leave it.
QMap<QString, QByteArray> applyChangeSet(const QMap<QString, QByteArray> &before,
                                         const ChangeSet &changes);
// Runs a planner (a format's apply) on a StagedTree over an in-memory copy of before, then checks
// with QTest that it succeeded, that the resulting tree is byte-for-byte after, and that each
// expected note (a substring) is in the change set's notes, in order. The change set is returned
// for further checks; check QTest::currentTestFailed() after calling.
ChangeSet verifyStagedApply(const QMap<QString, QByteArray> &before,
                            const std::function<Status(StagedTree &)> &apply,
                            const QMap<QString, QByteArray> &after, const QStringList &notes);
// Everything under dir, seen through lstat (symlinks not followed, special files never opened):
// "d/" -> "<dir>", a file -> "<mode as 4 octal digits>:" + contents, a symlink -> "->target",
// anything else (FIFO, socket, device) -> "<special>".
QMap<QString, QByteArray> snapshot(const QString &dir);
// Workspace temporary and backup files (names containing ".gr-") anywhere under dir.
QStringList sideFiles(const QString &dir);
// Permission bits of path (not following a final symlink), or -1.
int fileMode(const QString &path);
} // namespace TestSupport

namespace TestSupport {
// Sets (or, with a null value, unsets) an environment variable for one scope, then restores it.
class ScopedEnv
{
public:
    ScopedEnv(const char *name, const QByteArray &value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv &) = delete;
    ScopedEnv &operator=(const ScopedEnv &) = delete;

private:
    QByteArray m_name;
    QByteArray m_old;
    bool m_had;
};
// Writes one file (creating parent directories); false when it could not.
bool writeFile(const QString &path, const QByteArray &contents);
// The transaction records left open under a workspace's txnDir: each <txn>.json, and
// "current.rec" when the slot holds a record (an empty slot is no open transaction).
QStringList openTxnRecords(const QString &txnDir);
} // namespace TestSupport
