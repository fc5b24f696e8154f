#include "filesource.h"

#include "workspacepath.h"

void MemoryFileSource::setFile(const QString &path, const QByteArray &contents, int mode)
{
    m_files.insert(path, contents);
    m_modes.insert(path, mode);
}

Result<QString> MemoryFileSource::normalize(const QString &path) const
{
    return WorkspacePath::normalize(path);
}

Result<FileState> MemoryFileSource::read(const QString &relativePath) const
{
    FileState s;
    auto it = m_files.constFind(relativePath);
    if (it != m_files.constEnd()) {
        s.exists = true;
        s.contents = *it;
        s.mode = m_modes.value(relativePath, 0644);
        return s;
    }
    // A directory (a prefix of stored files) is no file, as on disk: not "missing".
    const QString dir = relativePath + QLatin1Char('/');
    it = m_files.lowerBound(dir);
    if (it != m_files.constEnd() && it.key().startsWith(dir)) {
        Error e = makeError("path_invalid",
                            QStringLiteral("path \"%1\" is not a regular file").arg(relativePath));
        e.file = relativePath;
        return e;
    }
    return s;
}
