#include "requestauthenticator.h"

#include "signer.h"

namespace {
QByteArray header(const HeaderList &headers, const char *name)
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second.trimmed();
    }
    return QByteArray();
}

Error authError(const QString &code, const QString &message)
{
    return makeError(code, message);
}
} // namespace

RequestAuthenticator::RequestAuthenticator(QByteArray secret, int toleranceSeconds)
    : m_secret(secret.trimmed()), m_toleranceS(toleranceSeconds)
{}

Result<AuthIdentity> RequestAuthenticator::authenticateBearer(const HeaderList &headers) const
{
    const QByteArray auth = header(headers, "Authorization");
    if (auth.isEmpty())
        return authError("missing_signature",
                         "this endpoint needs \"Authorization: Bearer <secret>\"");
    if (!auth.startsWith("Bearer ") || !Signer::constantTimeEquals(auth.mid(7).trimmed(), m_secret))
        return authError("bad_token", "the bearer token does not match the configured secret");
    return AuthIdentity{QStringLiteral("bearer"), QString()};
}

Result<AuthIdentity> RequestAuthenticator::authenticate(const HeaderList &headers,
                                                        const QByteArray &body,
                                                        const QDateTime &now) const
{
    const QByteArray ghDelivery = header(headers, "X-GitHub-Delivery");
    const QByteArray swId = header(headers, "webhook-id");
    const QString deliveryKey = QString::fromUtf8(!swId.isEmpty() ? swId : ghDelivery);
    if (m_secret.isEmpty())
        return AuthIdentity{QStringLiteral("open"), deliveryKey};

    // Any one valid proof is enough; remember the most telling failure for the answer.
    Error failure = authError("missing_signature",
                              "the request carries no signature; sign it with the shared secret "
                              "(X-Hub-Signature-256, webhook-signature, or Authorization: Bearer)");

    const QByteArray gh = header(headers, "X-Hub-Signature-256");
    if (!gh.isEmpty()) {
        if (Signer::constantTimeEquals(gh, Signer::githubSignature(m_secret, body)))
            return AuthIdentity{QStringLiteral("github"), QString::fromUtf8(ghDelivery)};
        failure = authError("bad_signature",
                            "the X-Hub-Signature-256 header does not match the body; check the "
                            "webhook secret");
    }

    const QByteArray swTs = header(headers, "webhook-timestamp");
    const QByteArray swSig = header(headers, "webhook-signature");
    if (!swSig.isEmpty() || !swTs.isEmpty() || !swId.isEmpty()) {
        bool ok = false;
        const qint64 ts = swTs.toLongLong(&ok);
        if (swId.isEmpty() || swTs.isEmpty() || swSig.isEmpty()) {
            failure = authError("missing_signature",
                                "a Standard Webhooks request needs webhook-id, webhook-timestamp "
                                "and webhook-signature");
        } else if (!ok || qAbs(now.toSecsSinceEpoch() - ts) > m_toleranceS) {
            failure = authError("stale_timestamp",
                                QStringLiteral("webhook-timestamp is more than %1 s from now (or "
                                               "unreadable); check the sender's clock")
                                    .arg(m_toleranceS));
        } else {
            const QByteArray expected =
                Signer::standardWebhooksSignature(m_secret, swId, swTs, body);
            // Several space-separated signatures allow key rotation; only v1 is known.
            for (const QByteArray &candidate : swSig.split(' ')) {
                if (candidate.startsWith("v1,") && Signer::constantTimeEquals(candidate, expected))
                    return AuthIdentity{QStringLiteral("standard-webhooks"),
                                        QString::fromUtf8(swId)};
            }
            failure = authError("bad_signature",
                                "webhook-signature does not match the body; check the webhook "
                                "secret");
        }
    }

    if (!header(headers, "Authorization").isEmpty()) {
        const Result<AuthIdentity> bearer = authenticateBearer(headers);
        if (bearer.ok())
            return AuthIdentity{QStringLiteral("bearer"), deliveryKey};
        if (failure.code == QLatin1String("missing_signature"))
            failure = bearer.error();
    }
    return failure;
}
