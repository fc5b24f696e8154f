#include "singleinstance.h"

#include <QCryptographicHash>
#include <QLocalSocket>

SingleInstance::SingleInstance(const QString &key, QObject *parent)
    : QObject(parent), m_name(serverNameFor(key))
{
    connect(&m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket *s = m_server.nextPendingConnection()) {
            connect(s, &QLocalSocket::disconnected, s, &QObject::deleteLater);
            connect(s, &QLocalSocket::readyRead, this, [this, s] {
                while (s->canReadLine()) {
                    const QString line = QString::fromUtf8(s->readLine()).trimmed();
                    s->write("ok\n");
                    emit messageReceived(line);
                }
            });
        }
    });
}

QString SingleInstance::serverNameFor(const QString &key)
{
    const QByteArray user = qgetenv("USER").isEmpty() ? qgetenv("USERNAME") : qgetenv("USER");
    const QByteArray h =
        QCryptographicHash::hash(user + '\n' + key.toUtf8(), QCryptographicHash::Sha256).toHex();
    return QStringLiteral("ghost-runner-tray-") + QString::fromLatin1(h.left(16));
}

bool SingleInstance::sendToRunning(const QString &message, int timeoutMs)
{
    QLocalSocket s;
    s.connectToServer(m_name);
    if (!s.waitForConnected(timeoutMs))
        return false;
    s.write(message.toUtf8() + '\n');
    s.waitForBytesWritten(timeoutMs);
    // The answer proves the first instance is alive, not a stale socket file.
    return s.waitForReadyRead(timeoutMs) && s.readLine().startsWith("ok");
}

bool SingleInstance::listen(QString *error)
{
    if (m_server.listen(m_name))
        return true;
    // A socket left by a crashed instance: nobody answered sendToRunning, so remove and retry.
    QLocalServer::removeServer(m_name);
    if (m_server.listen(m_name))
        return true;
    if (error)
        *error = m_server.errorString();
    return false;
}
