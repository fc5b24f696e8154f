#pragma once
// What a patch planner may know about the files it patches: read-only, sandboxed access.
// Workspace implements it over the disk; MemoryFileSource over a map, for pure parser tests.

#include "result.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

struct FileState
{
    bool exists = false;
    QByteArray contents;
    int mode = 0644; // permission bits
};

class FileSource
{
public:
    virtual ~FileSource() = default;
    // Turns a path from a patch into a clean workspace-relative one, or a sandbox error
    // (code "path_outside_workspace" or "path_invalid").
    virtual Result<QString> normalize(const QString &path) const = 0;
    // Reads a normalized path; a missing file is a FileState with exists == false, not an error.
    virtual Result<FileState> read(const QString &relativePath) const = 0;
    // read() for each of several normalized paths, in their order; a source may read them
    // concurrently.
    virtual QList<Result<FileState>> readMany(const QStringList &relativePaths) const
    {
        QList<Result<FileState>> out;
        out.reserve(relativePaths.size());
        for (const QString &p : relativePaths)
            out.append(read(p));
        return out;
    }
};

// An in-memory tree, for tests and dry runs of pure planners.
class MemoryFileSource final : public FileSource
{
public:
    MemoryFileSource() = default;
    explicit MemoryFileSource(QMap<QString, QByteArray> files) : m_files(std::move(files)) {}

    void setFile(const QString &path, const QByteArray &contents, int mode = 0644);
    Result<QString> normalize(const QString &path) const override;
    Result<FileState> read(const QString &relativePath) const override;

private:
    QMap<QString, QByteArray> m_files;
    QMap<QString, int> m_modes;
};
