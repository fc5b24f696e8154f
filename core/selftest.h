#pragma once
// The canary: sends a dry-run patch through the whole chain (webhook → [relay → runner] →
// executor) over real HTTP and waits until its confirmation line is in the log. Used by
// `ghost-runner doctor` and the tray's "Run self-test".

#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>

class SelfTest final : public QObject
{
    Q_OBJECT
public:
    // baseUrl: the daemon ("http://127.0.0.1:5555"); logPath: its confirmation log, or empty to
    // trust the HTTP answer alone (a remote daemon).
    SelfTest(QUrl baseUrl, QByteArray secret, QString logPath, QObject *parent = nullptr);

    void start(int timeoutMs);
    QString deliveryId() const { return m_delivery; }
    // The canary envelope (a dry run: it changes nothing).
    static QByteArray canaryEnvelope(const QString &id);

signals:
    void finished(bool ok, const QString &message);

private:
    void done(bool ok, const QString &message);
    bool logHasLine() const;

    QUrl m_base;
    QByteArray m_secret;
    QString m_logPath;
    QString m_delivery;
    QNetworkAccessManager m_nam;
    QTimer m_deadline;
    bool m_finished = false;
};
