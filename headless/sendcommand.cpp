#include "sendcommand.h"

#include "clientoptions.h"
#include "cliutil.h"
#include "httpclient.h"
#include "outcomeprinter.h"
#include "patchinput.h"

#include <QCommandLineParser>
#include <QJsonDocument>

int SendCommand::run(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        "Send a patch to a running daemon's POST /webhook. PATCH_FILE is a JSON envelope or raw\n"
        "patch text; '-' reads standard input. With --wait, waits for the outcome and exits 0\n"
        "when applied, 1 when not.");
    p.addHelpOption();
    p.addVersionOption();
    ClientOptions::addTo(p);
    p.addOption({"wait", "Wait for the outcome and print it."});
    p.addOption({"timeout", "Seconds to wait with --wait (default 30).", "S", "30"});
    p.addOption({"format", "The format of raw patch text (default auto).", "F", "auto"});
    p.addOption({"json", "Print the daemon's answer as JSON."});
    p.addPositionalArgument("PATCH_FILE", "The patch, or - for standard input.");
    if (!Cli::parse(p, args))
        return Cli::UsageError;
    if (p.positionalArguments().size() != 1)
        return Cli::fail(Cli::UsageError, "send needs exactly one PATCH_FILE (or -); see --help");
    const Result<ClientTarget> target = ClientOptions::resolve(p);
    if (!target.ok())
        return Cli::fail(Cli::UsageError, target.error().message);
    const QString name = p.positionalArguments().first();
    const Result<QByteArray> input = PatchInput::read(name);
    if (!input.ok())
        return Cli::fail(Cli::UsageError, input.error().message);
    const QByteArray body = PatchInput::toEnvelope(*input, p.value("format"), false, name);
    const int timeout = qBound(1, p.value("timeout").toInt(), 3600);
    QUrl url = target->baseUrl;
    url.setPath(url.path() + "/webhook");
    if (p.isSet("wait"))
        url.setQuery(QStringLiteral("wait=%1").arg(timeout));
    auto headers = ClientOptions::authHeaders(target->secret, body);
    headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
    const Result<HttpAnswer> a =
        HttpClient::request("POST", url, body, headers, (timeout + 5) * 1000);
    if (!a.ok())
        return Cli::fail(Cli::Failed,
                         a.error().message + QStringLiteral("; is the daemon running? try "
                                                            "'ghost-runner doctor'"));
    if (p.isSet("json")) {
        Cli::out() << QJsonDocument(a->json).toJson(QJsonDocument::Compact) << '\n';
        Cli::out().flush();
    }
    if (a->status >= 400 && a->status != 422) {
        const QJsonObject e = a->json.value("error").toObject();
        return Cli::fail(Cli::Failed,
                         QStringLiteral("the daemon refused the patch (%1 %2): %3")
                             .arg(a->status)
                             .arg(e.value("code").toString(), e.value("message").toString()));
    }
    const QString status = a->json.value("status").toString();
    if (!p.isSet("json")) {
        if (p.isSet("wait") && (status == "applied" || a->status == 422))
            OutcomePrinter::print(Cli::out(), a->json, false);
        else
            Cli::out() << QStringLiteral("%1 %2: delivery %3 (%4)\n")
                              .arg(a->json.value("duplicate").toBool() ? "already received"
                                                                       : "sent",
                                   a->json.value("id").toString(),
                                   a->json.value("delivery").toString(), status);
        Cli::out().flush();
    }
    if (p.isSet("wait") && status != QLatin1String("applied")) {
        if (a->status == 202)
            return Cli::fail(Cli::Failed,
                             QStringLiteral("no outcome within %1 s; the delivery "
                                            "is still %2 (see GET %3)")
                                 .arg(timeout)
                                 .arg(status, a->json["links"].toObject()["self"].toString()));
        return Cli::Failed;
    }
    return Cli::Ok;
}
