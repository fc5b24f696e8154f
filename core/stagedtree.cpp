#include "stagedtree.h"

#include <QSet>
#include <cstring>
#include <vector>

namespace {
// Base reads kept for a later write(); past this, reads nobody wrote are dropped.
constexpr qsizetype MaxRememberedReads = 1024;
} // namespace

Result<FileState> StagedTree::baseRead(const QString &path) const
{
    const auto it = m_baseReads.constFind(path);
    if (it != m_baseReads.constEnd())
        return *it;
    if (m_baseReads.size() >= MaxRememberedReads)
        m_baseReads.clear(); // read but never written: no need to keep them all
    return *m_baseReads.insert(path, m_base.read(path));
}

Result<FileState> StagedTree::read(const QString &path) const
{
    auto it = m_entries.constFind(path);
    if (it != m_entries.constEnd()) {
        FileState s;
        s.exists = it->exists;
        s.contents = it->contents;
        s.mode = it->mode;
        return s;
    }
    return baseRead(path);
}

bool StagedTree::exists(const QString &path) const
{
    const Result<FileState> s = read(path);
    return s.ok() && s->exists;
}

StagedTree::Entry StagedTree::entryFromBase(const QString &path, bool keepContents,
                                            QByteArray *baseContents) const
{
    Entry e;
    const Result<FileState> base = baseRead(path);
    m_baseReads.remove(path); // the entry holds what is needed from now on
    if (!base.ok())
        return e;
    e.baseKnown = true;
    e.baseExists = base->exists;
    e.baseMode = base->mode;
    if (base->exists)
        e.mode = base->mode;
    if (keepContents) {
        e.exists = base->exists;
        e.contents = base->contents;
    }
    if (baseContents)
        *baseContents = base->contents;
    return e;
}

void StagedTree::prefetch(const QStringList &paths) const
{
    QStringList wanted;
    for (const QString &p : paths) {
        if (!m_entries.contains(p) && !m_baseReads.contains(p))
            wanted.append(p);
    }
    if (wanted.isEmpty())
        return;
    if (m_baseReads.size() + wanted.size() > MaxRememberedReads)
        m_baseReads.clear();
    const QList<Result<FileState>> read = m_base.readMany(wanted);
    for (qsizetype i = 0; i < wanted.size(); ++i)
        m_baseReads.insert(wanted.at(i), read.at(i));
}

void StagedTree::write(const QString &path, const QByteArray &contents,
                       std::optional<LineCounts> againstBase)
{
    auto it = m_entries.find(path);
    if (it == m_entries.end()) {
        QByteArray before;
        it = m_entries.insert(path, entryFromBase(path, false, &before));
        // The base is at hand now: count against it, so changeSet() need not read it again.
        if (it->baseKnown) {
            if (againstBase) {
                it->added = againstBase->added;
                it->removed = againstBase->removed;
            } else {
                countChangedLines(before, contents, &it->added, &it->removed);
            }
            it->sameAsBase = it->baseExists && before == contents;
            it->countsKnown = true;
        }
    } else {
        it->countsKnown = false;
    }
    it->exists = true;
    it->contents = contents;
}

void StagedTree::remove(const QString &path)
{
    Entry e;
    e.exists = false;
    m_entries.insert(path, e);
    m_renamedFrom.remove(path);
}

void StagedTree::setMode(const QString &path, int mode)
{
    auto it = m_entries.find(path);
    if (it == m_entries.end())
        it = m_entries.insert(path, entryFromBase(path, true, nullptr));
    it->mode = mode;
    it->modeSet = true;
}

Status StagedTree::rename(const QString &path, const QString &newPath)
{
    const Result<FileState> src = read(path);
    if (!src.ok())
        return src.error();
    if (!src->exists) {
        Error e = makeError("file_not_found",
                            QStringLiteral("cannot move \"%1\": it does not exist").arg(path));
        e.file = path;
        return e;
    }
    Entry moved;
    moved.exists = true;
    moved.contents = src->contents;
    moved.mode = src->mode;
    const QString origin = m_renamedFrom.value(path, path);
    remove(path);
    m_entries.insert(newPath, moved);
    if (origin != newPath)
        m_renamedFrom.insert(newPath, origin);
    return {};
}

Result<ChangeSet> StagedTree::changeSet() const
{
    ChangeSet cs;
    cs.notes = m_notes;
    QSet<QString> consumedByRename;
    for (auto it = m_renamedFrom.constBegin(); it != m_renamedFrom.constEnd(); ++it) {
        auto origin = m_entries.constFind(it.value());
        if (origin != m_entries.constEnd() && !origin->exists)
            consumedByRename.insert(it.value());
    }
    cs.changes.reserve(m_entries.size());
    for (auto it = m_entries.constBegin(); it != m_entries.constEnd(); ++it) {
        const QString &path = it.key();
        const Entry &now = it.value();
        if (consumedByRename.contains(path))
            continue;
        const QString origin = m_renamedFrom.value(path);
        const bool renamed = !origin.isEmpty() && consumedByRename.contains(origin);
        if (now.exists && !renamed && now.baseKnown && now.countsKnown) {
            // Written once after reading the base: everything needed was noted then.
            FileChange c;
            c.path = path;
            c.contents = now.contents;
            c.linesAdded = now.added;
            c.linesRemoved = now.removed;
            if (!now.baseExists) {
                c.action = FileChange::Action::Added;
                if (now.modeSet)
                    c.mode = now.mode;
            } else {
                if (now.sameAsBase && now.baseMode == now.mode)
                    continue;
                c.action = FileChange::Action::Modified;
                if (now.mode != now.baseMode)
                    c.mode = now.mode;
            }
            cs.changes.append(c);
            continue;
        }
        const Result<FileState> baseRead = m_base.read(path);
        if (!baseRead.ok())
            return baseRead.error();
        const FileState &base = *baseRead;
        FileChange c;
        c.path = path;
        if (!now.exists) {
            if (!base.exists)
                continue; // created and deleted again: nothing to do
            c.action = FileChange::Action::Deleted;
            countChangedLines(base.contents, QByteArray(), &c.linesAdded, &c.linesRemoved);
        } else if (renamed) {
            const Result<FileState> from = m_base.read(origin);
            c.action = FileChange::Action::Renamed;
            c.oldPath = origin;
            c.contents = now.contents;
            if (from.ok()) {
                countChangedLines(from->contents, now.contents, &c.linesAdded, &c.linesRemoved);
                if (now.mode != from->mode)
                    c.mode = now.mode;
            }
        } else if (!base.exists) {
            c.action = FileChange::Action::Added;
            c.contents = now.contents;
            if (now.modeSet)
                c.mode = now.mode;
            countChangedLines(QByteArray(), now.contents, &c.linesAdded, &c.linesRemoved);
        } else {
            if (base.contents == now.contents && base.mode == now.mode)
                continue;
            c.action = FileChange::Action::Modified;
            c.contents = now.contents;
            if (now.mode != base.mode)
                c.mode = now.mode;
            countChangedLines(base.contents, now.contents, &c.linesAdded, &c.linesRemoved);
        }
        cs.changes.append(c);
    }
    return cs;
}

void countChangedLines(const QByteArray &before, const QByteArray &after, int *added, int *removed)
{
    // Lines keep their '\n', so "a\n" is one line (not "a" and "") and a missing final newline
    // counts as a change of that line, as in git. Line i is [starts[i], starts[i + 1]).
    const auto lineStarts = [](const QByteArray &text) {
        std::vector<qsizetype> starts;
        starts.reserve(size_t(text.size() / 32 + 2));
        const char *const data = text.constData();
        for (qsizetype pos = 0; pos < text.size();) {
            starts.push_back(pos);
            const void *nl = std::memchr(data + pos, '\n', size_t(text.size() - pos));
            pos = nl ? static_cast<const char *>(nl) - data + 1 : text.size();
        }
        starts.push_back(text.size());
        return starts;
    };
    const std::vector<qsizetype> a = lineStarts(before);
    const std::vector<qsizetype> b = lineStarts(after);
    const qsizetype na = qsizetype(a.size()) - 1;
    const qsizetype nb = qsizetype(b.size()) - 1;
    const auto same = [&](qsizetype i, qsizetype j) {
        const qsizetype len = a[size_t(i) + 1] - a[size_t(i)];
        return len == b[size_t(j) + 1] - b[size_t(j)] &&
               std::memcmp(before.constData() + a[size_t(i)], after.constData() + b[size_t(j)],
                           size_t(len)) == 0;
    };
    qsizetype head = 0;
    while (head < na && head < nb && same(head, head))
        ++head;
    qsizetype tail = 0;
    while (tail < na - head && tail < nb - head && same(na - 1 - tail, nb - 1 - tail))
        ++tail;
    *added = int(nb - head - tail);
    *removed = int(na - head - tail);
}
