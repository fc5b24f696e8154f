#pragma once
// Runs the shell commands a patch carries (command_patch, validate, postMutationBuild) — only
// when the configuration allows commands (off by default), only those matching the allow-list,
// in the workspace, with a clean environment, a timeout and bounded captured output.

#include "result.h"

#include <QRegularExpression>
#include <QString>
#include <QStringList>

struct CommandPolicy
{
    bool allowed = false;
    QStringList allowList; // regular expressions a whole command must match; empty: any
    int timeoutMs = 60000;
    qint64 maxOutputBytes = 64 * 1024;
};

class CommandRunner
{
public:
    explicit CommandRunner(CommandPolicy policy = {}) : m_policy(std::move(policy)) {}

    const CommandPolicy &policy() const { return m_policy; }
    // Would this command be allowed to run? (code command_not_allowed when not)
    Status check(const QString &command) const;
    // Runs it in workdir; the captured output either way, or a command_failed/command_timeout
    // error whose detail is the output.
    Result<QString> run(const QString &command, const QString &workdir) const;

private:
    CommandPolicy m_policy;
};
