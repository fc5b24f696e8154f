#include "testsupport.h"

#include "stagedtree.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QTest>
#include <sys/stat.h>
#include <unistd.h>

namespace TestSupport {

void writeTree(const QString &dir, const QMap<QString, QByteArray> &files)
{
    for (auto it = files.constBegin(); it != files.constEnd(); ++it) {
        const QString path = dir + QLatin1Char('/') + it.key();
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile f(path);
        if (f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            f.write(it.value());
    }
}

QMap<QString, QByteArray> readTree(const QString &dir)
{
    QMap<QString, QByteArray> out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    const QDir base(dir);
    while (it.hasNext()) {
        const QString path = it.next();
        const QFileInfo info(path);
        const QString rel = base.relativeFilePath(path);
        if (info.isSymLink())
            out.insert(rel, "->" + info.symLinkTarget().toUtf8());
        else if (!info.isFile())
            out.insert(rel, "<special file>"); // never open a FIFO: it would block
        else
            out.insert(rel, readFile(path));
    }
    return out;
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return QByteArray();
    return f.readAll();
}

QMap<QString, QByteArray> snapshot(const QString &dir)
{
    QMap<QString, QByteArray> out;
    const QDir base(dir);
    QStringList pending{dir};
    while (!pending.isEmpty()) {
        const QString current = pending.takeFirst();
        const QStringList names = QDir(current).entryList(
            QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
        for (const QString &name : names) {
            const QString path = current + QLatin1Char('/') + name;
            const QString rel = base.relativeFilePath(path);
            struct stat st;
            if (::lstat(QFile::encodeName(path).constData(), &st) != 0) {
                out.insert(rel, "<vanished>");
            } else if (S_ISLNK(st.st_mode)) {
                const QByteArray raw = QFile::encodeName(path);
                char target[4096];
                const ssize_t n = ::readlink(raw.constData(), target, sizeof target);
                out.insert(rel, n < 0 ? QByteArray("->?") : "->" + QByteArray(target, int(n)));
            } else if (S_ISDIR(st.st_mode)) {
                out.insert(rel + QLatin1Char('/'), "<dir>");
                pending.append(path);
            } else if (S_ISREG(st.st_mode)) {
                out.insert(rel,
                           QByteArray::number(int(st.st_mode & 07777), 8).rightJustified(4, '0') +
                               ':' + readFile(path));
            } else {
                out.insert(rel, "<special>");
            }
        }
    }
    return out;
}

QStringList sideFiles(const QString &dir)
{
    QStringList out;
    const QMap<QString, QByteArray> all = snapshot(dir);
    for (auto it = all.constBegin(); it != all.constEnd(); ++it) {
        if (QFileInfo(it.key()).fileName().contains(QLatin1String(".gr-")))
            out.append(it.key());
    }
    return out;
}

int fileMode(const QString &path)
{
    struct stat st;
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

} // namespace TestSupport

namespace TestSupport {

ScopedEnv::ScopedEnv(const char *name, const QByteArray &value)
    : m_name(name), m_old(qgetenv(name)), m_had(qEnvironmentVariableIsSet(name))
{
    if (value.isNull())
        qunsetenv(name);
    else
        qputenv(name, value);
}

ScopedEnv::~ScopedEnv()
{
    if (m_had)
        qputenv(m_name.constData(), m_old);
    else
        qunsetenv(m_name.constData());
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
           f.write(contents) == contents.size();
}

namespace {
QByteArray showTree(const QMap<QString, QByteArray> &t)
{
    QByteArray out;
    for (auto it = t.begin(); it != t.end(); ++it)
        out += "[" + it.key().toUtf8() + "] " + it.value().toPercentEncoding(" \n") + "\n";
    return out;
}

void checkStaged(const QMap<QString, QByteArray> &before, const Status &s,
                 const Result<ChangeSet> &cs, const QMap<QString, QByteArray> &after,
                 const QStringList &notes)
{
    QVERIFY2(s.ok(), qPrintable(s.error().message + " / " + s.error().detail));
    QVERIFY2(cs.ok(), qPrintable(cs.error().message));
    const QMap<QString, QByteArray> got = applyChangeSet(before, cs.value());
    QVERIFY2(got == after,
             ("got:\n" + showTree(got) + "expected:\n" + showTree(after)).constData());
    QVERIFY2(cs->notes.size() == notes.size(), qPrintable(cs->notes.join(" | ")));
    for (int i = 0; i < notes.size(); ++i)
        QVERIFY2(cs->notes[i].contains(notes[i]), qPrintable(cs->notes[i]));
}
} // namespace

ChangeSet verifyStagedApply(const QMap<QString, QByteArray> &before,
                            const std::function<Status(StagedTree &)> &apply,
                            const QMap<QString, QByteArray> &after, const QStringList &notes)
{
    MemoryFileSource base(before);
    StagedTree tree(base);
    const Status s = apply(tree);
    const Result<ChangeSet> cs = s.ok() ? tree.changeSet() : Result<ChangeSet>(s.error());
    checkStaged(before, s, cs, after, notes);
    return cs.ok() ? cs.value() : ChangeSet();
}

QMap<QString, QByteArray> applyChangeSet(const QMap<QString, QByteArray> &before,
                                         const ChangeSet &changes)
{
    QMap<QString, QByteArray> files = before;
    for (const FileChange &c : changes.changes) {
        if (c.action == FileChange::Action::Deleted)
            files.remove(c.path);
        else if (c.action == FileChange::Action::Renamed)
            files.remove(c.oldPath);
        if (c.action != FileChange::Action::Deleted)
            files.insert(c.path, c.contents);
    }
    return files;
}

} // namespace TestSupport

QStringList TestSupport::openTxnRecords(const QString &txnDir)
{
    QStringList out = QDir(txnDir).entryList({QStringLiteral("*")}, QDir::Files | QDir::Hidden);
    if (out.removeAll(QStringLiteral("current.rec")) > 0) {
        const QByteArray slot = readFile(txnDir + QStringLiteral("/current.rec"));
        const QList<QByteArray> head = slot.left(slot.indexOf('\n')).split(' ');
        if (head.size() != 3 || head.at(1) != "0")
            out.append(QStringLiteral("current.rec"));
    }
    return out;
}
