#pragma once
// The lexical half of the sandbox: turns a path named in a patch into a clean relative path, or
// says why it is refused. Symlink checks need the disk and live in Workspace.

#include "result.h"

#include <QString>

class WorkspacePath
{
public:
    // root: the workspace's absolute, canonical path (may be empty for purely relative checks).
    // Accepts relative paths and absolute paths inside root; refuses '..' escapes, NUL bytes,
    // empty names, other absolute paths and, unless allowGit, anything inside ".git".
    static Result<QString> normalize(const QString &path, const QString &root = QString(),
                                     bool allowGit = false);
};
