#pragma once
// Attach mode: watches a running daemon over its HTTP API. On connect it reads GET /health and
// GET /deliveries, then follows GET /events (Server-Sent Events) and resumes with Last-Event-ID
// after a drop. It reconnects by itself with exponential backoff; while connected it runs no
// timer at all (the stream pushes, nothing polls).

#include "delivery.h"
#include "healthreport.h"

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

class QNetworkReply;

class DaemonClient final : public QObject
{
    Q_OBJECT
public:
    // baseUrl: "http://127.0.0.1:5555"; token: sent as a bearer token when not empty (for a
    // daemon that requires it on the read endpoints).
    explicit DaemonClient(QUrl baseUrl, QByteArray token = {}, QObject *parent = nullptr);
    ~DaemonClient() override;

    void start();
    void stop();
    bool isConnected() const { return m_connected; }
    QUrl baseUrl() const { return m_base; }
    qint64 lastEventId() const { return m_lastEventId; }
    int reconnectDelayMs() const { return m_backoffMs; }
    void setBackoff(int initialMs, int maxMs);

    // One-shot requests; answers come as signals.
    void fetchHealth();
    void fetchDeliveries(int limit = 10);
    void fetchDelivery(const QString &id);
    void replay(const QString &id);

    static Delivery deliveryFromJson(const QJsonObject &o);

signals:
    void connectedChanged(bool connected, const QString &reason);
    void healthReceived(const QJsonObject &health);
    void deliveriesReceived(const QList<Delivery> &deliveries);
    void deliveryReceived(const Delivery &delivery);
    void replayFinished(bool ok, const QString &messageOrNewId);
    // SSE `event: delivery`
    void deliveryEvent(const QString &deliveryId, const QString &patchId, const QString &status);
    // SSE `event: health`
    void healthEvent(Health now, Health previous, const QStringList &problems);

private:
    QNetworkRequest request(const QString &path) const;
    void openStream();
    void onStreamData();
    void onStreamEnded();
    void dispatchEvent(const QString &type, const QByteArray &data);
    void setConnected(bool connected, const QString &reason);
    void scheduleReconnect(const QString &reason);

    QUrl m_base;
    QByteArray m_token;
    QNetworkAccessManager m_nam;
    QPointer<QNetworkReply> m_stream;
    QByteArray m_buffer;
    QString m_eventType;
    QByteArray m_eventData;
    qint64 m_lastEventId = 0;
    bool m_connected = false;
    bool m_running = false;
    int m_initialBackoffMs = 500;
    int m_maxBackoffMs = 30000;
    int m_backoffMs = 500;
    QTimer m_reconnect; // single-shot, armed only while disconnected
};
