#include "statuscommand.h"

#include "clientoptions.h"
#include "cliutil.h"
#include "httpclient.h"

#include <QCommandLineParser>
#include <QJsonDocument>

int StatusCommand::run(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription("Show whether a running daemon is healthy, component by "
                                "component.\nExit 0 when ok, 1 when degraded, failing or not "
                                "answering.");
    p.addHelpOption();
    p.addVersionOption();
    ClientOptions::addTo(p, false);
    p.addOption({"json", "Print GET /health as JSON."});
    if (!Cli::parse(p, args))
        return Cli::UsageError;
    const Result<ClientTarget> target = ClientOptions::resolve(p);
    if (!target.ok())
        return Cli::fail(Cli::UsageError, target.error().message);
    QUrl url = target->baseUrl;
    url.setPath(url.path() + "/health");
    const Result<HttpAnswer> a = HttpClient::request("GET", url, {}, {}, 5000);
    if (!a.ok())
        return Cli::fail(Cli::Failed,
                         a.error().message + QStringLiteral("; start it with 'ghost-runner serve' "
                                                            "or run 'ghost-runner doctor'"));
    const QJsonObject h = a->json;
    if (p.isSet("json")) {
        Cli::out() << QJsonDocument(h).toJson(QJsonDocument::Indented);
        Cli::out().flush();
        return h.value("status").toString() == QLatin1String("ok") ? Cli::Ok : Cli::Failed;
    }
    if (!h.contains("components"))
        return Cli::fail(Cli::Failed, QStringLiteral("%1 answered HTTP %2 without a Ghost Runner "
                                                     "health report")
                                          .arg(url.toString())
                                          .arg(a->status));
    const qint64 up = h.value("uptime_s").toInteger();
    const QString uptime = up < 120    ? QStringLiteral("%1 s").arg(up)
                           : up < 7200 ? QStringLiteral("%1 min").arg(up / 60)
                                       : QStringLiteral("%1 h").arg(up / 3600);
    Cli::out() << QStringLiteral("%1: %2 (ghost-runner %3, role %4, up %5)\n")
                      .arg(target->baseUrl.toString(), h.value("status").toString().toUpper(),
                           h.value("version").toString(), h.value("role").toString(), uptime);
    const QJsonObject components = h.value("components").toObject();
    for (auto it = components.constBegin(); it != components.constEnd(); ++it) {
        const QJsonObject c = it.value().toObject();
        QStringList facts;
        for (auto f = c.constBegin(); f != c.constEnd(); ++f) {
            if (f.key() == "status" || f.key() == "message" || f.value().isNull())
                continue;
            facts << f.key() + "=" + f.value().toVariant().toString();
        }
        Cli::out() << QStringLiteral("  %1 %2  %3\n")
                          .arg(it.key().leftJustified(10),
                               c.value("status").toString().leftJustified(9), facts.join(' '));
        if (c.contains("message"))
            Cli::out() << "             " << c.value("message").toString() << '\n';
    }
    Cli::out().flush();
    return h.value("status").toString() == QLatin1String("ok") ? Cli::Ok : Cli::Failed;
}
