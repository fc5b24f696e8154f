#include "workspacepath.h"

#include <QDir>
#include <QStringList>

namespace {
Error pathError(const QString &code, const QString &path, const QString &why)
{
    Error e = makeError(code, QStringLiteral("path \"%1\" %2").arg(path, why));
    e.file = path;
    return e;
}
} // namespace

Result<QString> WorkspacePath::normalize(const QString &path, const QString &root, bool allowGit)
{
    // Display form never carries raw NULs.
    QString shown = path;
    shown.replace(QChar(0), QStringLiteral("\\0"));
    if (path.isEmpty())
        return pathError("path_invalid", shown, "is empty");
    if (path.contains(QChar(0)))
        return pathError("path_invalid", shown, "contains a NUL byte");
    for (QChar ch : path) {
        if (ch.unicode() < 0x20 && ch != QLatin1Char('\t'))
            return pathError("path_invalid", shown, "contains a control character");
    }
    QString p = path;
    p.replace(QLatin1Char('\\'), QLatin1Char('/'));
    if (p.startsWith(QLatin1Char('/')) || (p.size() > 1 && p.at(1) == QLatin1Char(':'))) {
        const QString cleanRoot = root.isEmpty() ? QString() : QDir::cleanPath(root);
        const QString cleanAbs = QDir::cleanPath(p);
        if (!cleanRoot.isEmpty() && cleanAbs == cleanRoot)
            return pathError("path_invalid", shown, "names the workspace itself, not a file");
        if (cleanRoot.isEmpty() || !(cleanAbs.startsWith(cleanRoot + QLatin1Char('/'))))
            return pathError("path_outside_workspace", shown,
                             "is an absolute path outside the workspace");
        p = cleanAbs.mid(cleanRoot.size() + 1);
    }
    if (p.startsWith(QLatin1Char('~')))
        return pathError("path_outside_workspace", shown, "starts with '~' (a home directory)");
    QStringList out;
    const QStringList parts = p.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        if (part == QLatin1String("."))
            continue;
        if (part == QLatin1String(".."))
            return pathError("path_outside_workspace", shown, "contains '..'");
        out.append(part);
    }
    if (out.isEmpty())
        return pathError("path_invalid", shown, "names the workspace itself, not a file");
    // Any .git, also a nested repository's or a submodule's: its hooks run code.
    for (const QString &part : out) {
        if (!allowGit && part.compare(QLatin1String(".git"), Qt::CaseInsensitive) == 0)
            return pathError("path_outside_workspace", shown,
                             "is inside .git (allow it with executor.allow_git)");
    }
    return out.join(QLatin1Char('/'));
}
