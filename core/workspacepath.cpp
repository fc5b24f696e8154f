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

// Is path already clean: relative, '/'-separated, without empty, ".", ".." or (unless allowed)
// ".git" components, '~' start, drive letter, backslash or control characters? Then normalize()
// would return it unchanged, and it need not be split and joined again.
bool alreadyClean(const QString &path, bool allowGit)
{
    const qsizetype size = path.size();
    if (size == 0 || path.front() == QLatin1Char('~') ||
        (size > 1 && path.at(1) == QLatin1Char(':')))
        return false;
    const QChar *const data = path.constData();
    qsizetype start = 0;
    for (qsizetype i = 0; i <= size; ++i) {
        if (i < size) {
            const char16_t c = data[i].unicode();
            if (c < 0x20 || c == u'\\')
                return false;
            if (c != u'/')
                continue;
        }
        const QStringView part(data + start, i - start);
        if (part.isEmpty() || part == QLatin1String(".") || part == QLatin1String("..") ||
            (!allowGit && part.compare(QLatin1String(".git"), Qt::CaseInsensitive) == 0))
            return false;
        start = i + 1;
    }
    return true;
}
} // namespace

Result<QString> WorkspacePath::normalize(const QString &path, const QString &root, bool allowGit)
{
    if (alreadyClean(path, allowGit))
        return path;
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
