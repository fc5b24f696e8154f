#pragma once
// Applies one envelope to the workspace: picks the format's planner, which edits a StagedTree in
// memory; commits the resulting ChangeSet through Workspace (atomic); runs the validate and
// post-mutation commands when allowed, rolling the files back if one fails.

#include "commandrunner.h"
#include "envelope.h"
#include "outcome.h"
#include "workspace.h"

class PatchExecutor
{
public:
    PatchExecutor(Workspace *workspace, CommandRunner commands);

    // The change the envelope would make, computed without touching the disk.
    Result<ChangeSet> plan(const Envelope &envelope) const;
    // Plans and commits under txnId. On "applied" the transaction is left open so the caller can
    // log the outcome first and then Workspace::finalize(txnId); on anything else nothing changed.
    Outcome execute(const Envelope &envelope, const QString &txnId);

    Workspace *workspace() const { return m_workspace; }
    const CommandRunner &commands() const { return m_commands; }
    // Codes that mean "refused before trying" (status rejected) rather than "did not apply".
    static bool isRejection(const QString &code);

private:
    Result<QStringList> commandList(const QJsonObject &json, const char *key) const;

    Workspace *m_workspace;
    CommandRunner m_commands;
};
