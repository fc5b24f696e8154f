#include "clientoptions.h"

#include "requestauthenticator_fwd.h"
#include "signer.h"

#include <QDateTime>
#include <QProcessEnvironment>
#include <QUuid>

void ClientOptions::addTo(QCommandLineParser &p, bool withSecret)
{
    p.addOption({"url",
                 "The daemon's base URL (default: from the configuration, else "
                 "http://127.0.0.1:5555).",
                 "URL"});
    p.addOption({"config", "Read the daemon's configuration from FILE (INI).", "FILE"});
    if (withSecret)
        p.addOption({"secret-file", "Sign requests with the secret in FILE.", "FILE"});
}

Result<ClientTarget> ClientOptions::resolve(const QCommandLineParser &p)
{
    ClientTarget t;
    if (Status s = t.config.loadFileAndEnvironment(p.value("config")); !s.ok())
        return s.error();
    if (p.optionNames().contains("secret-file") && p.isSet("secret-file"))
        t.config.secretFile = p.value("secret-file");
    // Client commands do not bind: skip the serve-only checks, keep the secret.
    if (!t.config.secretFile.isEmpty()) {
        const Result<QByteArray> s = readSecretFileTrimmed(t.config.secretFile);
        if (!s.ok())
            return s.error();
        t.secret = *s;
    }
    if (t.config.stateDir.isEmpty())
        t.config.stateDir = t.config.defaultStateDir();
    if (p.isSet("url")) {
        t.baseUrl = QUrl(p.value("url"));
        if (!t.baseUrl.isValid() || !t.baseUrl.scheme().startsWith("http") ||
            t.baseUrl.host().isEmpty())
            return makeError("usage",
                             QStringLiteral("--url %1 is not an http(s) URL").arg(p.value("url")));
        QString path = t.baseUrl.path();
        while (path.endsWith('/'))
            path.chop(1);
        t.baseUrl.setPath(path);
    } else {
        QString host = t.config.bind;
        if (host == QLatin1String("0.0.0.0"))
            host = QStringLiteral("127.0.0.1");
        if (host == QLatin1String("::"))
            host = QStringLiteral("::1");
        if (host.contains(':'))
            host = '[' + host + ']';
        t.baseUrl = QUrl(QStringLiteral("http://%1:%2").arg(host).arg(t.config.effectivePort()));
    }
    return t;
}

QList<QPair<QByteArray, QByteArray>> ClientOptions::authHeaders(const QByteArray &secret,
                                                                const QByteArray &body)
{
    if (secret.isEmpty())
        return {};
    const QByteArray id = "msg_" + QUuid::createUuid().toString(QUuid::Id128).toLatin1();
    return Signer::signedHeaders(secret, id, body, QDateTime::currentDateTimeUtc());
}
