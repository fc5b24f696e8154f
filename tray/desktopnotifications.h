#pragma once
// Presents a Notifier decision on the desktop. Linux: org.freedesktop.Notifications over QtDBus
// (works with or without a tray), with a "default" action so a click opens the delivery;
// without that service, QSystemTrayIcon::showMessage. macOS: showMessage with no expiry, so
// failure alerts stay in Notification Center.

#include "notifier.h"

#include <QHash>
#include <QObject>

class QSystemTrayIcon;

class DesktopNotifications final : public QObject
{
    Q_OBJECT
public:
    explicit DesktopNotifications(QSystemTrayIcon *icon, QObject *parent = nullptr);

    void show(const Notification &notification);
    // "dbus" or "tray": which path show() takes now.
    QString backend() const;

signals:
    // The user clicked a notification that names a delivery (empty: a burst or health).
    void activated(const QString &deliveryId);

private slots:
    void onActionInvoked(uint id, const QString &action);
    void onNotificationClosed(uint id, uint reason);

private:
    bool dbusAvailable() const;

    QSystemTrayIcon *m_icon;
    QHash<uint, QString> m_deliveryFor; // D-Bus notification id -> delivery id
    QString m_lastBalloonDelivery;
    bool m_connected = false;
};
