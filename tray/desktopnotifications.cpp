#include "desktopnotifications.h"

#include <QLoggingCategory>
#include <QSystemTrayIcon>

#ifdef GR_HAVE_DBUS
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusReply>
#endif

Q_LOGGING_CATEGORY(lcNotify, "ghostrunner.tray.notify")

namespace {
const char *kService = "org.freedesktop.Notifications";
const char *kPath = "/org/freedesktop/Notifications";
const char *kInterface = "org.freedesktop.Notifications";
} // namespace

DesktopNotifications::DesktopNotifications(QSystemTrayIcon *icon, QObject *parent)
    : QObject(parent), m_icon(icon)
{
    connect(m_icon, &QSystemTrayIcon::messageClicked, this,
            [this] { emit activated(m_lastBalloonDelivery); });
#ifdef GR_HAVE_DBUS
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (bus.isConnected()) {
        m_connected = bus.connect(kService, kPath, kInterface, "ActionInvoked", this,
                                  SLOT(onActionInvoked(uint, QString))) &&
                      bus.connect(kService, kPath, kInterface, "NotificationClosed", this,
                                  SLOT(onNotificationClosed(uint, uint)));
    }
#endif
}

bool DesktopNotifications::dbusAvailable() const
{
#ifdef GR_HAVE_DBUS
    QDBusConnection bus = QDBusConnection::sessionBus();
    return bus.isConnected() && bus.interface() &&
           bus.interface()->isServiceRegistered(QString::fromLatin1(kService)).value();
#else
    return false;
#endif
}

QString DesktopNotifications::backend() const
{
    return dbusAvailable() ? QStringLiteral("dbus") : QStringLiteral("tray");
}

void DesktopNotifications::show(const Notification &n)
{
    const bool urgent = n.kind != NotificationKind::Recovered;
#ifdef GR_HAVE_DBUS
    if (dbusAvailable()) {
        QDBusMessage call = QDBusMessage::createMethodCall(kService, kPath, kInterface, "Notify");
        QStringList actions;
        if (!n.deliveryId.isEmpty())
            actions << QStringLiteral("default") << QStringLiteral("Show delivery");
        else
            actions << QStringLiteral("default") << QStringLiteral("Show deliveries");
        QVariantMap hints;
        hints.insert(QStringLiteral("urgency"), QVariant::fromValue(uchar(urgent ? 2 : 1)));
        hints.insert(QStringLiteral("desktop-entry"), QStringLiteral("ghost-runner-tray"));
        call << QStringLiteral("Ghost Runner") << uint(0) << QStringLiteral("ghost-runner")
             << n.summary << n.body << actions << hints << int(urgent ? 0 : 5000);
        const QDBusReply<uint> reply = QDBusConnection::sessionBus().call(call, QDBus::Block, 5000);
        if (reply.isValid()) {
            m_deliveryFor.insert(reply.value(), n.deliveryId);
            return;
        }
        qCWarning(lcNotify, "Notify over D-Bus failed (%s); falling back to the tray balloon",
                  qPrintable(reply.error().message()));
    }
#endif
    m_lastBalloonDelivery = n.deliveryId;
#ifdef Q_OS_MACOS
    const int msecs = 0; // stays in Notification Center
#else
    const int msecs = urgent ? 0 : 8000;
#endif
    m_icon->showMessage(n.summary, n.body,
                        urgent ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information, msecs);
}

void DesktopNotifications::onActionInvoked(uint id, const QString &action)
{
    if (!m_deliveryFor.contains(id))
        return;       // another application's notification
    Q_UNUSED(action); // "default" (the body was clicked) or our one button: both open it
    emit activated(m_deliveryFor.value(id));
}

void DesktopNotifications::onNotificationClosed(uint id, uint)
{
    m_deliveryFor.remove(id);
}
