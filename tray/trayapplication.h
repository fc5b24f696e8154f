#pragma once
// The tray's composition: an in-process Engine (default) or a DaemonClient (--attach), the core
// Notifier that decides what to say, and the widgets that present it. Every update is driven by
// an engine signal or a stream event; nothing polls.

#include "config.h"
#include "deliverieswindow.h"
#include "delivery.h"
#include "notifier.h"
#include "settingsdialog.h"
#include "traystate.h"

#include <QObject>
#include <QPointer>
#include <QSettings>
#include <QUrl>
#include <memory>

class DaemonClient;
class DeliveriesWindow;
class DesktopNotifications;
class Engine;
class SettingsDialog;
class TrayIcon;
struct TraySettings;

class TrayApplication final : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        Config config;        // in-process mode
        QString configFile;   // where settings are saved (the daemon's INI format)
        QUrl attachUrl;       // attach mode when valid
        QByteArray token;     // attach mode: bearer token for the read endpoints
        QString settingsFile; // the tray's own preferences (notification kinds); empty: default
    };

    explicit TrayApplication(Options options, QObject *parent = nullptr);
    ~TrayApplication() override;

    // Starts the engine or the client and shows the icon. A failed engine start is not fatal:
    // the tray shows it (failing, with the reason) and settings can fix it.
    Status start();
    // A request from a second launch (SingleInstance) or a command-line flag.
    void handleMessage(const QString &message);

    bool isAttached() const { return m_options.attachUrl.isValid(); }
    Engine *engine() const { return m_engine.get(); }
    DaemonClient *client() const { return m_client; }
    TrayIcon *trayIcon() const { return m_icon; }
    Notifier *notifier() { return &m_notifier; }
    DesktopNotifications *desktopNotifications() const { return m_desktop; }
    DeliveriesWindow *deliveriesWindow() const { return m_window; }
    SettingsDialog *settingsDialog() const { return m_settings; }
    const TrayFacts &facts() const { return m_facts; }
    TrayState state() const { return computeTrayState(m_facts); }
    QString webhookUrl() const;

    void openDelivery(const QString &deliveryId);
    void openDeliveries();
    void openSettings();
    void popupMenu();
    // Applies edited settings: notifications, autostart, then the engine (reload, no restart).
    Status applySettings(const TraySettings &settings);

signals:
    void viewUpdated();
    void notificationShown(const Notification &notification);

private:
    Status startEngine();
    void scheduleRefresh();
    void refresh();
    void pushView();
    void loadPreferences();
    void runSelfTest();
    void openLocalPath(const QString &path);
    QString stateDir() const;
    QString workspaceDir() const;
    void requestDetail(const QString &deliveryId);
    void replay(const QString &deliveryId);
    void refreshWindow();
    TraySettings currentSettings() const;

    Options m_options;
    std::unique_ptr<Engine> m_engine;
    QString m_startError;
    DaemonClient *m_client = nullptr;
    QJsonObject m_daemonHealth;
    QStringList m_notifyWhenFetched; // attach: final deliveries seen on the stream
    Notifier m_notifier;
    TrayIcon *m_icon = nullptr;
    DesktopNotifications *m_desktop = nullptr;
    QPointer<DeliveriesWindow> m_window;
    QPointer<SettingsDialog> m_settings;
    TrayFacts m_facts;
    QList<Delivery> m_recent;
    QString m_applying;
    bool m_refreshQueued = false;
    bool m_selfTestRunning = false;
    std::unique_ptr<QSettings> m_prefs;
};
