#include "patchexecutor.h"

#include "applypatchparser.h"
#include "mutationsparser.h"
#include "patternedit.h"
#include "searchreplaceparser.h"
#include "stagedtree.h"
#include "unifieddiffparser.h"

#include <QElapsedTimer>
#include <QJsonArray>

PatchExecutor::PatchExecutor(Workspace *workspace, CommandRunner commands)
    : m_workspace(workspace), m_commands(std::move(commands))
{}

bool PatchExecutor::isRejection(const QString &code)
{
    return code == QLatin1String("path_outside_workspace") ||
           code == QLatin1String("path_invalid") || code == QLatin1String("command_not_allowed");
}

Result<QStringList> PatchExecutor::commandList(const QJsonObject &json, const char *key) const
{
    const QJsonValue v = json.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return QStringList();
    QJsonValue shell = v.isObject() ? v.toObject().value("shell") : v;
    QStringList out;
    if (shell.isString()) {
        out.append(shell.toString());
    } else if (shell.isArray()) {
        for (const QJsonValue &c : shell.toArray()) {
            if (!c.isString())
                return makeError("bad_patch",
                                 QStringLiteral("\"%1.shell\" must list strings").arg(key));
            out.append(c.toString());
        }
    } else {
        return makeError("bad_patch",
                         QStringLiteral("\"%1\" must be {\"shell\":[commands]}").arg(key));
    }
    for (const QString &c : out) {
        if (Status s = m_commands.check(c); !s.ok())
            return s.error();
    }
    return out;
}

Result<ChangeSet> PatchExecutor::plan(const Envelope &envelope) const
{
    // Each directory is checked once for the whole plan, not once per file in it.
    const Workspace::PathScope scope(*m_workspace);
    StagedTree tree(*m_workspace);
    const QString &format = envelope.format;
    const QByteArray text = envelope.patchBytes();
    Status s;
    if (format == QLatin1String("pattern")) {
        s = PatternEdit::apply(envelope.json, tree);
    } else if (format == QLatin1String("mutations")) {
        s = MutationsParser::apply(envelope.json.value("mutations").toArray(), tree);
    } else if (format == QLatin1String("command")) {
        if (Status c = m_commands.check(envelope.patchText()); !c.ok())
            return c.error();
    } else if (text.isEmpty()) {
        return makeError("bad_patch", QStringLiteral("a %1 patch needs its text in \"patch\" or "
                                                     "\"diff\"")
                                          .arg(format));
    } else if (format == QLatin1String("unified")) {
        s = UnifiedDiffParser::apply(text, tree);
    } else if (format == QLatin1String("apply_patch")) {
        s = ApplyPatchParser::apply(text, tree);
    } else if (format == QLatin1String("search_replace")) {
        // An envelope may name the file in target_file instead of a line before the block.
        s = SearchReplaceParser::apply(text, tree, envelope.json.value("target_file").toString());
    } else {
        return makeError(
            "unsupported_format",
            QStringLiteral("the %1 format is not supported by this build").arg(format));
    }
    if (!s.ok())
        return s.error();
    for (const char *key : {"validate", "postMutationBuild"}) {
        const Result<QStringList> cmds = commandList(envelope.json, key);
        if (!cmds.ok())
            return cmds.error();
    }
    return tree.changeSet();
}

Outcome PatchExecutor::execute(const Envelope &envelope, const QString &txnId)
{
    QElapsedTimer timer;
    timer.start();
    auto finish = [&](Outcome o) {
        o.format = envelope.format;
        o.dryRun = envelope.dryRun;
        o.durationMs = timer.nsecsElapsed() / 1e6;
        return o;
    };
    auto failure = [&](const Error &e) {
        return finish(
            Outcome::failure(isRejection(e.code) ? "rejected" : "failed", envelope.format, e));
    };

    const Result<ChangeSet> planned = plan(envelope);
    if (!planned.ok())
        return failure(planned.error());
    Outcome o;
    o.status = QStringLiteral("applied");
    o.files = planned->filesJson();
    o.notes = planned->notes;
    if (envelope.dryRun)
        return finish(o);

    if (envelope.format == QLatin1String("command")) {
        const Result<QString> out = m_commands.run(envelope.patchText(), m_workspace->root());
        if (!out.ok())
            return failure(out.error());
        o.output = *out;
        return finish(o);
    }

    if (Status s = m_workspace->commit(*planned, txnId); !s.ok())
        return failure(s.error());

    // Checks run on the committed tree; a failure undoes the commit.
    for (const char *key : {"validate", "postMutationBuild"}) {
        const QStringList cmds = commandList(envelope.json, key).value();
        for (const QString &c : cmds) {
            const Result<QString> out = m_commands.run(c, m_workspace->root());
            if (!out.ok()) {
                const Status undone = m_workspace->rollback(txnId);
                Error e = out.error();
                e.code = QLatin1String(key) == QLatin1String("validate") ? "validate_failed"
                                                                         : "build_failed";
                e.message = QStringLiteral("%1 command failed, so the change was rolled back: %2")
                                .arg(QLatin1String(key), out.error().message);
                if (!undone.ok())
                    e.message +=
                        QStringLiteral(" (rollback failed: %1)").arg(undone.error().message);
                Outcome f = failure(e);
                f.output = o.output + out.error().detail;
                return f;
            }
            o.output += *out;
        }
    }
    return finish(o);
}
