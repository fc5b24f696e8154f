#pragma once
// One tray per user and engine: the first launch listens on a local socket; a second launch
// sends its request ("show", "open-delivery ID", "settings", …) to the first and exits.

#include <QLocalServer>
#include <QObject>
#include <QString>

class SingleInstance final : public QObject
{
    Q_OBJECT
public:
    // key: what makes two launches "the same tray" (user + state directory or attach URL).
    explicit SingleInstance(const QString &key, QObject *parent = nullptr);

    static QString serverNameFor(const QString &key);
    QString serverName() const { return m_name; }
    // True when another instance took the message; then this process should exit.
    bool sendToRunning(const QString &message, int timeoutMs = 2000);
    // Becomes the running instance. False with a reason when the socket cannot be created.
    bool listen(QString *error = nullptr);

signals:
    void messageReceived(const QString &message);

private:
    QString m_name;
    QLocalServer m_server;
};
