#include "patternedit.h"

#include <QRegularExpression>

bool PatternEdit::isRegex(const QString &pattern)
{
    static const QString meta = QStringLiteral("\\^$.|?*+()[]{}");
    for (QChar c : pattern) {
        if (meta.contains(c))
            return true;
    }
    return false;
}

Status PatternEdit::apply(const QJsonObject &envelope, StagedTree &tree)
{
    const QJsonValue target = envelope.value("target_file");
    const QJsonObject patch = envelope.value("patch").toObject();
    if (!target.isString() || target.toString().isEmpty())
        return makeError("bad_patch", "a pattern patch needs \"target_file\"");
    if (!patch.value("pattern").isString() || patch.value("pattern").toString().isEmpty())
        return makeError("bad_patch", "a pattern patch needs a non-empty \"patch.pattern\"");
    const QJsonValue replacementValue = patch.value("replacement");
    if (!replacementValue.isUndefined() && !replacementValue.isString())
        return makeError("bad_patch", "\"patch.replacement\" must be a string");
    const Result<QString> path = tree.normalize(target.toString());
    if (!path.ok())
        return path.error();
    const Result<FileState> file = tree.read(*path);
    if (!file.ok())
        return file.error();
    if (!file->exists) {
        Error e =
            makeError("file_not_found", QStringLiteral("target file %1 does not exist").arg(*path));
        e.file = *path;
        return e;
    }
    // A file that is not UTF-8 is edited byte for byte (as Latin-1, which round-trips every
    // byte), so the bytes around the matches stay exactly as they were.
    const bool utf8 = QString::fromUtf8(file->contents).toUtf8() == file->contents;
    const auto decode = [utf8](const QByteArray &b) {
        return utf8 ? QString::fromUtf8(b) : QString::fromLatin1(b);
    };
    const QString pattern = decode(patch.value("pattern").toString().toUtf8());
    QString replacement = decode(replacementValue.toString().toUtf8());
    QString text = decode(file->contents);
    int count = 0;
    if (isRegex(pattern)) {
        const QRegularExpression re(pattern, QRegularExpression::DotMatchesEverythingOption);
        if (!re.isValid()) {
            Error e = makeError("bad_patch", QStringLiteral("the pattern is not a valid regular "
                                                            "expression: %1 at offset %2")
                                                 .arg(re.errorString())
                                                 .arg(re.patternErrorOffset()));
            e.file = *path;
            return e;
        }
        // Python's \g<N> is Qt's \N.
        static const QRegularExpression named(QStringLiteral("\\\\g<(\\d+)>"));
        for (auto m = named.match(replacement); m.hasMatch(); m = named.match(replacement))
            replacement.replace(m.capturedStart(), m.capturedLength(),
                                QLatin1Char('\\') + m.captured(1));
        auto it = re.globalMatch(text);
        while (it.hasNext()) {
            it.next();
            ++count;
        }
        if (count > 0)
            text.replace(re, replacement);
    } else {
        count = int(text.count(pattern));
        text.replace(pattern, replacement);
    }
    if (count == 0) {
        Error e =
            makeError("no_match", QStringLiteral("the pattern \"%1\" matches nothing in %2")
                                      .arg(patch.value("pattern").toString().left(80), *path));
        e.file = *path;
        return e;
    }
    tree.write(*path, utf8 ? text.toUtf8() : text.toLatin1());
    tree.notes().append(
        QStringLiteral("%1: %2 replacement%3").arg(*path).arg(count).arg(count == 1 ? "" : "s"));
    return {};
}
