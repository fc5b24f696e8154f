#include "stagedtree.h"

#include <QSet>

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
    return m_base.read(path);
}

bool StagedTree::exists(const QString &path) const
{
    const Result<FileState> s = read(path);
    return s.ok() && s->exists;
}

void StagedTree::write(const QString &path, const QByteArray &contents)
{
    auto it = m_entries.find(path);
    if (it == m_entries.end()) {
        Entry e;
        const Result<FileState> base = m_base.read(path);
        if (base.ok() && base->exists)
            e.mode = base->mode;
        it = m_entries.insert(path, e);
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
    if (it == m_entries.end()) {
        const Result<FileState> base = m_base.read(path);
        Entry e;
        if (base.ok()) {
            e.exists = base->exists;
            e.contents = base->contents;
        }
        it = m_entries.insert(path, e);
    }
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
    for (auto it = m_entries.constBegin(); it != m_entries.constEnd(); ++it) {
        const QString &path = it.key();
        const Entry &now = it.value();
        if (consumedByRename.contains(path))
            continue;
        const Result<FileState> baseRead = m_base.read(path);
        if (!baseRead.ok())
            return baseRead.error();
        const FileState &base = *baseRead;
        FileChange c;
        c.path = path;
        const QString origin = m_renamedFrom.value(path);
        if (!now.exists) {
            if (!base.exists)
                continue; // created and deleted again: nothing to do
            c.action = FileChange::Action::Deleted;
            countChangedLines(base.contents, QByteArray(), &c.linesAdded, &c.linesRemoved);
        } else if (!origin.isEmpty() && consumedByRename.contains(origin)) {
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

void countChangedLines(const QByteArray &before, const QByteArray &after, int *added,
                       int *removed)
{
    // Lines keep their '\n', so "a\n" is one line (not "a" and "") and a missing final newline
    // counts as a change of that line, as in git.
    const auto lines = [](const QByteArray &text) {
        QList<QByteArray> out;
        for (qsizetype start = 0; start < text.size();) {
            const qsizetype eol = text.indexOf('\n', start);
            const qsizetype end = eol < 0 ? text.size() : eol + 1;
            out.append(text.mid(start, end - start));
            start = end;
        }
        return out;
    };
    const QList<QByteArray> a = lines(before);
    const QList<QByteArray> b = lines(after);
    qsizetype head = 0;
    while (head < a.size() && head < b.size() && a.at(head) == b.at(head))
        ++head;
    qsizetype tail = 0;
    while (tail < a.size() - head && tail < b.size() - head &&
           a.at(a.size() - 1 - tail) == b.at(b.size() - 1 - tail))
        ++tail;
    *added = int(b.size() - head - tail);
    *removed = int(a.size() - head - tail);
}
