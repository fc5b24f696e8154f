#include "applycommand.h"

#include "cliutil.h"
#include "envelope.h"
#include "patchexecutor.h"
#include "patchinput.h"
#include "workspace.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>
#include <cstdio>

int ApplyCommand::run(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        "Apply one patch to a workspace, offline, with the same executor as the daemon.\n"
        "PATCH_FILE is a JSON envelope or raw patch text (unified diff, *** Begin Patch,\n"
        "SEARCH/REPLACE blocks); '-' reads standard input. Exit 0 when applied, 1 when not\n"
        "(the workspace is then unchanged), 2 on usage errors.");
    p.addHelpOption();
    p.addVersionOption();
    p.addOption({"workspace", "Apply inside DIR (default: the current directory).", "DIR"});
    p.addOption({"format",
                 "auto (default), pattern, mutations, unified, apply_patch, "
                 "search_replace or command.",
                 "F", "auto"});
    p.addOption({"dry-run", "Only print the plan; change nothing."});
    p.addOption({"allow-commands", "Let the patch run its commands (validate, command_patch)."});
    p.addOption({"json", "Print the outcome as JSON."});
    p.addPositionalArgument("PATCH_FILE", "The patch, or - for standard input.");
    if (!Cli::parse(p, args))
        return Cli::UsageError;
    if (p.positionalArguments().size() != 1)
        return Cli::fail(Cli::UsageError, "apply needs exactly one PATCH_FILE (or -); see --help");
    const QString format = p.value("format");
    if (!Envelope::knownFormats().contains(format))
        return Cli::fail(Cli::UsageError, Envelope::unknownFormat(format).message);
    const QString name = p.positionalArguments().first();
    const Result<QByteArray> input = PatchInput::read(name);
    if (!input.ok())
        return Cli::fail(Cli::UsageError, input.error().message);
    const Result<Envelope> envelope =
        PatchInput::toApplyEnvelope(*input, format, p.isSet("dry-run"), name);
    if (!envelope.ok())
        return Cli::fail(Cli::UsageError, QStringLiteral("%1: %2").arg(envelope.error().code,
                                                                       envelope.error().message));

    Workspace workspace(p.isSet("workspace") ? p.value("workspace") : QDir::currentPath());
    if (Status s = workspace.checkWritable(); !s.ok() && !p.isSet("dry-run"))
        return Cli::fail(Cli::UsageError, s.error().message);
    CommandPolicy policy;
    policy.allowed = p.isSet("allow-commands");
    PatchExecutor executor(&workspace, CommandRunner(policy));
    const QString txn = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const Outcome outcome = executor.execute(*envelope, txn);
    if (outcome.applied())
        workspace.finalize(txn);

    if (p.isSet("json")) {
        Cli::out() << QJsonDocument(outcome.toJson()).toJson(QJsonDocument::Compact) << '\n';
    } else {
        const QString verb =
            outcome.dryRun ? QStringLiteral("would apply") : QStringLiteral("applied");
        if (outcome.applied()) {
            Cli::out() << QStringLiteral("%1 %2 patch to %3:\n")
                              .arg(verb, envelope->format, workspace.root());
            for (const QJsonValue &v : outcome.files) {
                const QJsonObject f = v.toObject();
                QString what = f.value("action").toString();
                QString path = f.value("path").toString();
                if (f.contains("from"))
                    path = f.value("from").toString() + " -> " + path;
                if (f.contains("mode"))
                    what += " (mode " + f.value("mode").toString() + ")";
                Cli::out() << QStringLiteral("  %1 %2  +%3 -%4\n")
                                  .arg(what, -9)
                                  .arg(path)
                                  .arg(f.value("added").toInt())
                                  .arg(f.value("removed").toInt());
            }
            for (const QString &n : outcome.notes)
                Cli::out() << "  note: " << n << '\n';
            if (!outcome.output.isEmpty())
                Cli::out() << outcome.output;
        }
    }
    Cli::out().flush();
    if (!outcome.applied()) {
        const Error &e = outcome.error;
        QString line = QStringLiteral("%1 (%2): %3").arg(outcome.status, e.code, e.message);
        Cli::fail(Cli::Failed, line);
        if (!e.detail.isEmpty())
            Cli::err() << "  " << QString(e.detail).replace('\n', "\n  ") << '\n';
        Cli::err() << "  the workspace is unchanged\n";
        Cli::err().flush();
        return Cli::Failed;
    }
    return Cli::Ok;
}
