#include "requestauthenticator.h"
#include "signer.h"

#include <QTest>

Q_DECLARE_METATYPE(HeaderList)

namespace {
const QByteArray kSecret = "topsecret";
const QByteArray kBody = R"({"id":"p1","mutations":[]})";
const QDateTime kNow = QDateTime::fromSecsSinceEpoch(1800000000);

HeaderList sw(const QByteArray &secret, qint64 ts, const QByteArray &body = kBody,
              const QByteArray &id = "msg_1")
{
    const QByteArray t = QByteArray::number(ts);
    return {{"webhook-id", id},
            {"webhook-timestamp", t},
            {"webhook-signature", Signer::standardWebhooksSignature(secret, id, t, body)}};
}
} // namespace

class tst_RequestAuthenticator : public QObject
{
    Q_OBJECT
private slots:
    void accepted_data()
    {
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<QString>("scheme");
        const qint64 now = kNow.toSecsSinceEpoch();
        QTest::newRow("github") << HeaderList{{"X-Hub-Signature-256",
                                               Signer::githubSignature(kSecret, kBody)},
                                              {"X-GitHub-Delivery", "gh-1"}}
                                << "github";
        QTest::newRow("github lower-case name")
            << HeaderList{{"x-hub-signature-256", Signer::githubSignature(kSecret, kBody)}}
            << "github";
        QTest::newRow("standard webhooks") << sw(kSecret, now) << "standard-webhooks";
        QTest::newRow("sw 4 min old") << sw(kSecret, now - 240) << "standard-webhooks";
        QTest::newRow("sw 4 min ahead") << sw(kSecret, now + 240) << "standard-webhooks";
        HeaderList rotation = sw(kSecret, now);
        rotation[2].second = "v1,bm90IGl0 v2,ignored " + rotation[2].second;
        QTest::newRow("rotation list") << rotation << "standard-webhooks";
        QTest::newRow("bearer") << HeaderList{{"Authorization", "Bearer topsecret"}} << "bearer";
        QTest::newRow("bad github but good bearer")
            << HeaderList{{"X-Hub-Signature-256", "sha256=00"},
                          {"Authorization", "Bearer topsecret"}}
            << "bearer";
    }
    void accepted()
    {
        QFETCH(HeaderList, headers);
        QFETCH(QString, scheme);
        const RequestAuthenticator auth(kSecret + "\n"); // surrounding whitespace is not part of it
        const Result<AuthIdentity> id = auth.authenticate(headers, kBody, kNow);
        QVERIFY2(id.ok(), qPrintable(id.error().message));
        QCOMPARE(id->scheme, scheme);
    }

    void rejected_data()
    {
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("code");
        const qint64 now = kNow.toSecsSinceEpoch();
        QTest::newRow("nothing") << HeaderList{} << kBody << "missing_signature";
        QTest::newRow("unrelated header")
            << HeaderList{{"X-Other", "1"}} << kBody << "missing_signature";
        QTest::newRow("github tampered body")
            << HeaderList{{"X-Hub-Signature-256", Signer::githubSignature(kSecret, kBody)}}
            << QByteArray(kBody + " ") << "bad_signature";
        QTest::newRow("github wrong secret")
            << HeaderList{{"X-Hub-Signature-256", Signer::githubSignature("other", kBody)}} << kBody
            << "bad_signature";
        QTest::newRow("github sha1 style")
            << HeaderList{{"X-Hub-Signature-256", "sha1=abcdef"}} << kBody << "bad_signature";
        QTest::newRow("github empty")
            << HeaderList{{"X-Hub-Signature-256", ""}} << kBody << "missing_signature";
        QTest::newRow("github upper hex")
            << HeaderList{{"X-Hub-Signature-256",
                           Signer::githubSignature(kSecret, kBody).toUpper()}}
            << kBody << "bad_signature";
        QTest::newRow("sw tampered body")
            << sw(kSecret, now) << QByteArray(R"({"id":"p2","mutations":[]})") << "bad_signature";
        QTest::newRow("sw wrong secret") << sw("nope", now) << kBody << "bad_signature";
        QTest::newRow("sw stale 6 min") << sw(kSecret, now - 360) << kBody << "stale_timestamp";
        QTest::newRow("sw future 6 min") << sw(kSecret, now + 360) << kBody << "stale_timestamp";
        HeaderList badTs = sw(kSecret, now);
        badTs[1].second = "yesterday";
        QTest::newRow("sw unreadable timestamp") << badTs << kBody << "stale_timestamp";
        HeaderList noId = sw(kSecret, now);
        noId.removeFirst();
        QTest::newRow("sw missing id") << noId << kBody << "missing_signature";
        HeaderList noSig = sw(kSecret, now);
        noSig.removeLast();
        QTest::newRow("sw missing signature") << noSig << kBody << "missing_signature";
        HeaderList otherId = sw(kSecret, now);
        otherId[0].second = "msg_other";
        QTest::newRow("sw id swapped") << otherId << kBody << "bad_signature";
        HeaderList v2 = sw(kSecret, now);
        v2[2].second.replace(0, 2, "v2");
        QTest::newRow("sw unknown version") << v2 << kBody << "bad_signature";
        HeaderList garbage = sw(kSecret, now);
        garbage[2].second = "v1,%%%not-base64%%%";
        QTest::newRow("sw garbage signature") << garbage << kBody << "bad_signature";
        QTest::newRow("bearer wrong")
            << HeaderList{{"Authorization", "Bearer nope"}} << kBody << "bad_token";
        QTest::newRow("bearer prefix")
            << HeaderList{{"Authorization", "Bearer topsecre"}} << kBody << "bad_token";
        QTest::newRow("basic auth")
            << HeaderList{{"Authorization", "Basic dG9wc2VjcmV0"}} << kBody << "bad_token";
        QTest::newRow("bearer empty")
            << HeaderList{{"Authorization", "Bearer "}} << kBody << "bad_token";
        QTest::newRow("wrong secret whsec")
            << sw("whsec_dG9wc2VjcmV0eA==", now) << kBody << "bad_signature";
    }
    void rejected()
    {
        QFETCH(HeaderList, headers);
        QFETCH(QByteArray, body);
        QFETCH(QString, code);
        const RequestAuthenticator auth(kSecret);
        const Result<AuthIdentity> id = auth.authenticate(headers, body, kNow);
        QVERIFY(!id.ok());
        QCOMPARE(id.error().code, code);
        QVERIFY(!id.error().message.isEmpty());
    }

    void openWithoutSecretKeepsDeliveryKey()
    {
        const RequestAuthenticator open;
        const Result<AuthIdentity> id =
            open.authenticate({{"X-GitHub-Delivery", "d-7"}}, kBody, kNow);
        QVERIFY(id.ok());
        QCOMPARE(id->scheme, QString("open"));
        QCOMPARE(id->deliveryKey, QString("d-7"));
    }
    void whsecKeysDecode()
    {
        const QByteArray secret = "whsec_" + QByteArray("key-bytes").toBase64();
        const RequestAuthenticator auth(secret);
        QVERIFY(auth.authenticate(sw(secret, kNow.toSecsSinceEpoch()), kBody, kNow).ok());
        // The same signature made with the raw bytes "key-bytes" is also the same key.
        QVERIFY(auth.authenticate(sw("key-bytes", kNow.toSecsSinceEpoch()), kBody, kNow).ok());
    }
};

QTEST_GUILESS_MAIN(tst_RequestAuthenticator)
#include "tst_requestauthenticator.moc"
