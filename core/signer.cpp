#include "signer.h"

#include <QMessageAuthenticationCode>

namespace {
QByteArray standardWebhooksKey(const QByteArray &secret)
{
    // "whsec_<base64>": the key is the decoded part (Standard Webhooks); else the bytes.
    if (secret.startsWith("whsec_")) {
        const auto decoded = QByteArray::fromBase64Encoding(secret.mid(6));
        if (decoded)
            return *decoded;
    }
    return secret;
}
} // namespace

QByteArray Signer::githubSignature(const QByteArray &secret, const QByteArray &body)
{
    return "sha256=" +
           QMessageAuthenticationCode::hash(body, secret, QCryptographicHash::Sha256).toHex();
}

QByteArray Signer::standardWebhooksSignature(const QByteArray &secret, const QByteArray &id,
                                             const QByteArray &timestamp, const QByteArray &body)
{
    const QByteArray content = id + '.' + timestamp + '.' + body;
    return "v1," + QMessageAuthenticationCode::hash(content, standardWebhooksKey(secret),
                                                    QCryptographicHash::Sha256)
                       .toBase64();
}

QList<QPair<QByteArray, QByteArray>> Signer::signedHeaders(const QByteArray &secret,
                                                           const QByteArray &id,
                                                           const QByteArray &body,
                                                           const QDateTime &now)
{
    const QByteArray ts = QByteArray::number(now.toSecsSinceEpoch());
    return {{"webhook-id", id},
            {"webhook-timestamp", ts},
            {"webhook-signature", standardWebhooksSignature(secret, id, ts, body)}};
}

bool Signer::constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const qsizetype n = qMax(a.size(), b.size());
    for (qsizetype i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? uchar(a[i]) : 0;
        const unsigned char y = i < b.size() ? uchar(b[i]) : 0;
        diff |= uchar(x ^ y);
    }
    return diff == 0;
}
