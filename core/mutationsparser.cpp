#include "mutationsparser.h"

#include <QJsonObject>

namespace {

Error mutationError(const QString &code, int index, const QString &path, const QString &what)
{
    Error e = makeError(code, QStringLiteral("mutation %1%2: %3")
                                  .arg(index)
                                  .arg(path.isEmpty() ? QString() : " (" + path + ")", what));
    e.file = path;
    e.hunk = index;
    return e;
}

// Offsets where anchor occurs as whole lines: starting a line and ending one (a line "foo bar"
// is not the anchor "foo"; a "\r" before the "\n" is part of the line ending).
QList<qsizetype> anchorOffsets(const QByteArray &text, const QByteArray &anchor, bool wholeLines)
{
    QList<qsizetype> out;
    qsizetype from = 0;
    while (true) {
        const qsizetype at = text.indexOf(anchor, from);
        if (at < 0)
            break;
        const qsizetype end = at + anchor.size();
        const bool startsLine = at == 0 || text.at(at - 1) == '\n';
        const bool endsLine = anchor.endsWith('\n') || end == text.size() || text.at(end) == '\n' ||
                              text.mid(end, 2) == "\r\n";
        if (startsLine && (endsLine || !wholeLines))
            out.append(at);
        from = at + 1;
    }
    return out;
}

QByteArray withNewline(QByteArray s)
{
    if (!s.isEmpty() && !s.endsWith('\n'))
        s += '\n';
    return s;
}

} // namespace

Status MutationsParser::apply(const QJsonArray &mutations, StagedTree &tree)
{
    if (mutations.isEmpty())
        return makeError("bad_patch", "\"mutations\" is empty");
    int index = 0;
    for (const QJsonValue &v : mutations) {
        ++index;
        if (!v.isObject())
            return mutationError("bad_patch", index, QString(), "must be an object");
        const QJsonObject m = v.toObject();
        if (!m.value("path").isString())
            return mutationError("bad_patch", index, QString(), "needs a \"path\" string");
        const Result<QString> normalized = tree.normalize(m.value("path").toString());
        if (!normalized.ok()) {
            Error e = normalized.error();
            e.hunk = index;
            return e;
        }
        const QString path = *normalized;
        const QString op = m.value("op").toString();
        const Result<FileState> current = tree.read(path);
        if (!current.ok())
            return current.error();
        const QJsonValue contentsValue = m.value("contents");
        if (!contentsValue.isUndefined() && !contentsValue.isString())
            return mutationError("bad_patch", index, path, "\"contents\" must be a string");
        const QByteArray contents = contentsValue.toString().toUtf8();

        if (op == QLatin1String("delete")) {
            if (!current->exists)
                return mutationError("file_not_found", index, path,
                                     "cannot delete a file that does not exist");
            tree.remove(path);
        } else if (op == QLatin1String("chmod")) {
            if (!current->exists)
                return mutationError("file_not_found", index, path,
                                     "cannot chmod a file that does not exist");
            const QJsonValue modeValue = m.value("mode");
            // A number is read like chmod's argument: 755 means 0755 (JSON has no octal).
            bool ok = false;
            int mode = -1;
            if (modeValue.isString())
                mode = modeValue.toString().toInt(&ok, 8);
            else if (modeValue.isDouble() && modeValue.toDouble() == double(modeValue.toInt(-1)))
                mode = QString::number(modeValue.toInt()).toInt(&ok, 8);
            if (!ok || mode < 0 || mode > 07777)
                return mutationError("bad_patch", index, path,
                                     "\"mode\" must be octal permission bits such as \"0755\"");
            tree.setMode(path, mode & 0777);
        } else if (!op.isEmpty()) {
            return mutationError("bad_patch", index, path,
                                 QStringLiteral("unknown op \"%1\" (use delete or chmod)").arg(op));
        } else if (int(m.contains("insertAfter")) + int(m.contains("insertBefore")) +
                       int(m.contains("insertAt")) >
                   1) {
            return mutationError("bad_patch", index, path,
                                 "give only one of insertAfter, insertBefore and insertAt");
        } else if ((m.contains("insertAfter") || m.contains("insertBefore") ||
                    m.contains("insertAt")) &&
                   contentsValue.isUndefined()) {
            return mutationError("bad_patch", index, path, "an insert needs \"contents\"");
        } else if (m.contains("insertAfter") || m.contains("insertBefore")) {
            if (!current->exists)
                return mutationError("file_not_found", index, path,
                                     "cannot insert into a file that does not exist");
            const bool after = m.contains("insertAfter");
            const QByteArray anchor =
                m.value(after ? "insertAfter" : "insertBefore").toString().toUtf8();
            if (anchor.isEmpty())
                return mutationError("bad_patch", index, path, "the anchor text is empty");
            const QByteArray &text = current->contents;
            // Tiers: the anchor as whole lines; failing that, as the start of a line (assistants
            // often quote just the beginning, "int main"). Either tier must be unambiguous.
            QList<qsizetype> offsets = anchorOffsets(text, anchor, true);
            if (offsets.isEmpty())
                offsets = anchorOffsets(text, anchor, false);
            if (offsets.isEmpty())
                return mutationError("no_match", index, path,
                                     QStringLiteral("the anchor \"%1\" does not occur at the "
                                                    "start of any line")
                                         .arg(QString::fromUtf8(anchor.left(80))));
            if (offsets.size() > 1) {
                QStringList at;
                for (qsizetype o : offsets)
                    at.append(QString::number(text.left(o).count('\n') + 1));
                return mutationError("ambiguous_match", index, path,
                                     QStringLiteral("the anchor occurs at lines %1; make it "
                                                    "unique")
                                         .arg(at.join(", ")));
            }
            qsizetype pos = offsets.first();
            if (after) {
                pos += anchor.size();
                if (!anchor.endsWith('\n')) {
                    const qsizetype eol = text.indexOf('\n', pos);
                    pos = eol < 0 ? text.size() : eol + 1;
                }
            }
            QByteArray updated = text;
            QByteArray insert = withNewline(contents);
            if (after && pos == text.size() && !text.isEmpty() && !text.endsWith('\n'))
                insert.prepend('\n');
            updated.insert(pos, insert);
            tree.write(path, updated);
        } else if (m.contains("insertAt")) {
            if (!current->exists)
                return mutationError("file_not_found", index, path,
                                     "cannot insert into a file that does not exist");
            const QJsonValue at = m.value("insertAt");
            if (!at.isDouble() || at.toDouble() != double(at.toInt()) || at.toInt() < 1)
                return mutationError("bad_patch", index, path,
                                     "\"insertAt\" must be a line number from 1");
            const QByteArray &text = current->contents;
            const int lineCount =
                int(text.count('\n')) + ((!text.isEmpty() && !text.endsWith('\n')) ? 1 : 0);
            const int line = at.toInt();
            if (line > lineCount + 1)
                return mutationError("no_match", index, path,
                                     QStringLiteral("line %1 is past the end (the file has %2 "
                                                    "lines)")
                                         .arg(line)
                                         .arg(lineCount));
            qsizetype pos = 0;
            for (int l = 1; l < line; ++l) {
                const qsizetype eol = text.indexOf('\n', pos);
                pos = eol < 0 ? text.size() : eol + 1;
            }
            QByteArray updated = text;
            QByteArray insert = withNewline(contents);
            if (pos == text.size() && !text.isEmpty() && !text.endsWith('\n'))
                insert.prepend('\n');
            updated.insert(pos, insert);
            tree.write(path, updated);
        } else if (!contentsValue.isUndefined()) {
            tree.write(path, contents);
        } else {
            return mutationError("bad_patch", index, path,
                                 "needs \"contents\", an insert anchor, or an \"op\"");
        }
    }
    return {};
}
