#pragma once
// Produces webhook signatures: GitHub's X-Hub-Signature-256 and Standard Webhooks' v1 HMAC.

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QPair>

class Signer
{
public:
    static QByteArray githubSignature(const QByteArray &secret, const QByteArray &body);
    static QByteArray standardWebhooksSignature(const QByteArray &secret, const QByteArray &id,
                                                const QByteArray &timestamp,
                                                const QByteArray &body);
    static QList<QPair<QByteArray, QByteArray>> signedHeaders(const QByteArray &secret,
                                                              const QByteArray &id,
                                                              const QByteArray &body,
                                                              const QDateTime &now);
    static bool constantTimeEquals(const QByteArray &a, const QByteArray &b);
};
