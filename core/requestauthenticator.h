#pragma once
// Decides whether a request proves the shared secret (SPEC.md "Authentication"): any one of
// GitHub's X-Hub-Signature-256, a Standard Webhooks signature (id.timestamp.body, whsec_ keys,
// several signatures for rotation, ±tolerance on the timestamp), or a bearer token — all
// compared in constant time. Without a secret, intake is open.

#include "httpmessage.h"
#include "result.h"

#include <QDateTime>

struct AuthIdentity
{
    QString scheme;      // github | standard-webhooks | bearer | open
    QString deliveryKey; // webhook-id or X-GitHub-Delivery, for replay protection
};

class RequestAuthenticator
{
public:
    explicit RequestAuthenticator(QByteArray secret = {}, int toleranceSeconds = 300);

    void setSecret(QByteArray secret) { m_secret = secret.trimmed(); }
    bool hasSecret() const { return !m_secret.isEmpty(); }
    // Errors (all answered 401): missing_signature, bad_signature, stale_timestamp, bad_token.
    Result<AuthIdentity> authenticate(const HeaderList &headers, const QByteArray &body,
                                      const QDateTime &now) const;
    // Only the bearer token (replay, protected read endpoints).
    Result<AuthIdentity> authenticateBearer(const HeaderList &headers) const;

private:
    QByteArray m_secret;
    int m_toleranceS;
};
