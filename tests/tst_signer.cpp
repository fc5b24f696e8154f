#include "signer.h"

#include <QTest>

class tst_Signer : public QObject
{
    Q_OBJECT
private slots:
    void githubPublishedVector()
    {
        // docs.github.com "Validating webhook deliveries" test values.
        QCOMPARE(
            Signer::githubSignature("It's a Secret to Everybody", "Hello, World!"),
            QByteArray("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));
    }
    void standardWebhooksVector()
    {
        // The Standard Webhooks reference test vector (whsec_ secret, msg id, timestamp).
        const QByteArray sig = Signer::standardWebhooksSignature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
            R"({"test": 2432232314})");
        QCOMPARE(sig, QByteArray("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }
    void plainSecretIsUsedAsBytes()
    {
        // whsec_ + base64("plain") is the same key as the bytes "plain".
        QCOMPARE(Signer::standardWebhooksSignature("plain", "i", "1", "b"),
                 Signer::standardWebhooksSignature("whsec_cGxhaW4=", "i", "1", "b"));
    }
    void signedHeadersVerify()
    {
        const QDateTime now = QDateTime::fromSecsSinceEpoch(1700000000);
        const auto h = Signer::signedHeaders("s3cret", "delivery-1", "{}", now);
        QCOMPARE(h.size(), 3);
        QCOMPARE(h[0].second, QByteArray("delivery-1"));
        QCOMPARE(h[1].second, QByteArray("1700000000"));
        QCOMPARE(h[2].second,
                 Signer::standardWebhooksSignature("s3cret", "delivery-1", "1700000000", "{}"));
    }
    void constantTimeEquals_data()
    {
        QTest::addColumn<QByteArray>("a");
        QTest::addColumn<QByteArray>("b");
        QTest::addColumn<bool>("equal");
        QTest::newRow("same") << QByteArray("abc") << QByteArray("abc") << true;
        QTest::newRow("differ") << QByteArray("abc") << QByteArray("abd") << false;
        QTest::newRow("prefix") << QByteArray("abc") << QByteArray("abcd") << false;
        QTest::newRow("empty both") << QByteArray() << QByteArray() << true;
        QTest::newRow("empty one") << QByteArray() << QByteArray("a") << false;
    }
    void constantTimeEquals()
    {
        QFETCH(QByteArray, a);
        QFETCH(QByteArray, b);
        QFETCH(bool, equal);
        QCOMPARE(Signer::constantTimeEquals(a, b), equal);
    }
};

QTEST_GUILESS_MAIN(tst_Signer)
#include "tst_signer.moc"
