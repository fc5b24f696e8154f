// Requests signed by the real client libraries (npm standardwebhooks, @octokit/webhooks-methods,
// pinned in tests/interop/package-lock.json) against the real daemon with a secret, and our own
// Signer's output verified by those libraries.

#include "daemonprocess.h"
#include "signer.h"
#include "testsupport.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

namespace {
const QByteArray kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const QString kInterop = QStringLiteral(GR_TEST_DATA "/../interop");

QJsonObject node(const QJsonObject &request)
{
    QProcess p;
    p.setWorkingDirectory(kInterop);
    p.start("node", {"sign.mjs"});
    if (!p.waitForStarted(10000))
        return {};
    p.write(QJsonDocument(request).toJson(QJsonDocument::Compact));
    p.closeWriteChannel();
    p.waitForFinished(30000);
    return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
}

QList<QPair<QByteArray, QByteArray>> headersOf(const QJsonObject &o)
{
    QList<QPair<QByteArray, QByteArray>> h;
    for (auto it = o.begin(); it != o.end(); ++it)
        h.append({it.key().toUtf8(), it.value().toString().toUtf8()});
    return h;
}

QByteArray envelope(const QString &id)
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"mutations", QJsonArray{QJsonObject{{"path", id + ".txt"},
                                                                          {"contents", "x\n"}}}}})
        .toJson(QJsonDocument::Compact);
}
} // namespace

class tst_AuthInterop : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    DaemonProcess m_daemon;
    QJsonObject sign(const QByteArray &body, const QString &id, qint64 ts,
                     const QByteArray &secret = kSecret)
    {
        return node({{"mode", "sign"},
                     {"secret", QString::fromUtf8(secret)},
                     {"body", QString::fromUtf8(body)},
                     {"id", id},
                     {"timestamp", ts}});
    }
    HttpReply post(const QByteArray &body, const QList<QPair<QByteArray, QByteArray>> &headers)
    {
        return httpPostJson(m_daemon.baseUrl() + "/webhook", body, headers);
    }

private slots:
    void initTestCase()
    {
        if (qEnvironmentVariableIsSet("GR_NO_NODE"))
            QSKIP("GR_NO_NODE is set (the Qt 6.8 root has no Node.js); the native suite runs this");
        QVERIFY2(!QStandardPaths::findExecutable("node").isEmpty(),
                 "node is missing: ./dev test installs it");
        QVERIFY2(QFile::exists(kInterop + "/node_modules/standardwebhooks/package.json"),
                 "tests/interop/node_modules is missing: ./dev test runs npm ci there");
        TestSupport::writeTree(m_dir.path(), {{"secret", kSecret + "\n"}});
        QDir().mkpath(m_dir.path() + "/ws");
        QVERIFY(
            m_daemon.start({"--port", "0", "--workspace", m_dir.path() + "/ws", "--state-dir",
                            m_dir.path() + "/state", "--secret-file", m_dir.path() + "/secret"}));
    }

    void standardWebhooksLibraryIsAccepted()
    {
        const QByteArray body = envelope("std-ok");
        const QJsonObject s = sign(body, "msg_std_ok", QDateTime::currentSecsSinceEpoch());
        const HttpReply r = post(body, headersOf(s["standard"].toObject()));
        QCOMPARE(r.status, 202);
        // The same signed webhook-id again is a replay: the existing delivery, not a new one.
        const HttpReply again = post(body, headersOf(s["standard"].toObject()));
        QCOMPARE(again.status, 200);
        QCOMPARE(again.json["delivery"].toString(), r.json["delivery"].toString());
    }

    void octokitLibraryIsAccepted()
    {
        const QByteArray body = envelope("gh-ok");
        const QJsonObject s = sign(body, "unused", QDateTime::currentSecsSinceEpoch());
        auto h = headersOf(s["github"].toObject());
        h.append(qMakePair(QByteArray("X-GitHub-Delivery"),
                           QByteArray("72d3162e-cc78-11e3-81ab-4c9367dc0958")));
        QCOMPARE(post(body, h).status, 202);
    }

    void rejections_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("code");
        QTest::newRow("std tampered body") << "std-tampered"
                                           << "bad_signature";
        QTest::newRow("std wrong secret") << "std-wrong-secret"
                                          << "bad_signature";
        QTest::newRow("std stale timestamp") << "std-stale"
                                             << "stale_timestamp";
        QTest::newRow("std missing header") << "std-missing"
                                            << "missing_signature";
        QTest::newRow("github tampered body") << "gh-tampered"
                                              << "bad_signature";
        QTest::newRow("github wrong secret") << "gh-wrong-secret"
                                             << "bad_signature";
        QTest::newRow("no signature at all") << "none"
                                             << "missing_signature";
    }
    void rejections()
    {
        QFETCH(QString, kind);
        QFETCH(QString, code);
        const QByteArray body = envelope("rej-" + kind);
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        const bool stale = kind == "std-stale";
        const QByteArray secret = kind.endsWith("wrong-secret")
                                      ? QByteArray("whsec_b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==")
                                      : kSecret;
        const QJsonObject s = sign(body, "msg_" + kind, stale ? now - 600 : now, secret);
        QList<QPair<QByteArray, QByteArray>> h;
        QByteArray sent = body;
        if (kind.startsWith("std")) {
            h = headersOf(s["standard"].toObject());
            if (kind == "std-missing")
                h.removeLast();
        } else if (kind.startsWith("gh")) {
            h = headersOf(s["github"].toObject());
        }
        if (kind.endsWith("tampered"))
            sent = envelope("rej-tampered-other");
        const HttpReply r = post(sent, h);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.json["error"]["code"].toString(), code);
        QVERIFY(!r.json["error"]["message"].toString().isEmpty());
        // Nothing was journaled for it.
        QVERIFY(httpGet(m_daemon.baseUrl() + "/deliveries?id=rej-" + kind)
                    .json["deliveries"]
                    .toArray()
                    .isEmpty());
    }

    void ourSignaturesVerifyWithTheLibraries()
    {
        const QByteArray body = envelope("ours");
        const auto std =
            Signer::signedHeaders(kSecret, "msg_ours", body, QDateTime::currentDateTimeUtc());
        QJsonObject headers;
        for (const auto &h : std)
            headers.insert(QString::fromUtf8(h.first), QString::fromUtf8(h.second));
        headers.insert("X-Hub-Signature-256",
                       QString::fromUtf8(Signer::githubSignature(kSecret, body)));
        const QJsonObject v = node({{"mode", "verify"},
                                    {"secret", QString::fromUtf8(kSecret)},
                                    {"body", QString::fromUtf8(body)},
                                    {"headers", headers}});
        QVERIFY2(v["standard"].toBool(), qPrintable(v["standardError"].toString()));
        QVERIFY(v["github"].toBool());
    }
};

QTEST_GUILESS_MAIN(tst_AuthInterop)
#include "tst_authinterop.moc"
