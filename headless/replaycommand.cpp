#include "replaycommand.h"

#include "clientoptions.h"
#include "cliutil.h"
#include "httpclient.h"

#include <QCommandLineParser>

int ReplayCommand::run(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription("Deliver a finished or dead delivery again, as a new delivery "
                                "linked to the old one\n(POST /deliveries/ID/replay).");
    p.addHelpOption();
    p.addVersionOption();
    ClientOptions::addTo(p);
    p.addPositionalArgument("DELIVERY_ID", "The delivery to replay (its uuid).");
    if (!Cli::parse(p, args))
        return Cli::UsageError;
    if (p.positionalArguments().size() != 1)
        return Cli::fail(Cli::UsageError, "replay needs exactly one DELIVERY_ID; see --help");
    const Result<ClientTarget> target = ClientOptions::resolve(p);
    if (!target.ok())
        return Cli::fail(Cli::UsageError, target.error().message);
    QUrl url = target->baseUrl;
    url.setPath(url.path() + "/deliveries/" + p.positionalArguments().first() + "/replay");
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!target->secret.isEmpty())
        headers.append(qMakePair(QByteArray("Authorization"), "Bearer " + target->secret));
    const Result<HttpAnswer> a = HttpClient::request("POST", url, {}, headers);
    if (!a.ok())
        return Cli::fail(Cli::Failed, a.error().message);
    if (a->status != 202) {
        const QJsonObject e = a->json.value("error").toObject();
        return Cli::fail(Cli::Failed,
                         QStringLiteral("replay refused (%1 %2): %3")
                             .arg(a->status)
                             .arg(e.value("code").toString(), e.value("message").toString()));
    }
    Cli::out() << QStringLiteral("replaying %1 as delivery %2 (%3)\n")
                      .arg(p.positionalArguments().first(), a->json.value("delivery").toString(),
                           a->json.value("status").toString());
    return Cli::Ok;
}
