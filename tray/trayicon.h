#pragma once
// The tray icon and its menu: presents a TrayState, the facts behind it and the recent
// deliveries. It decides nothing; every action is a signal for TrayApplication.

#include "delivery.h"
#include "traystate.h"

#include <QIcon>
#include <QMenu>
#include <QObject>
#include <QSystemTrayIcon>
#include <memory>

struct TrayView
{
    TrayState state = TrayState::Ok;
    TrayFacts facts;
    QList<Delivery> recent; // newest first; the menu shows at most 10
    QString webhookUrl;     // empty when not listening
    bool canPause = true;   // attach mode: the daemon has no pause endpoint
    bool hasLog = true;     // the confirmation log is on this machine
    bool hasWorkspace = true;
    bool selfTestRunning = false;
    qint64 nowMs = 0;
};

class TrayIcon final : public QObject
{
    Q_OBJECT
public:
    explicit TrayIcon(QObject *parent = nullptr);
    ~TrayIcon() override;

    void setView(const TrayView &view);
    const TrayView &view() const { return m_view; }
    QMenu *menu() const { return m_menu.get(); }
    QSystemTrayIcon *systemTrayIcon() { return &m_icon; }
    void show() { m_icon.show(); }

    // The state's icon: a monochrome template (setIsMask) on macOS, coloured elsewhere.
    static QIcon iconFor(TrayState state);
    static QString resourceFor(TrayState state, bool monochrome);
    // "✓", "✗", … the outcome mark in front of a delivery in the menu and the table.
    static QString outcomeMark(const QString &status);
    static constexpr int kRecentInMenu = 10;

signals:
    void openDelivery(const QString &deliveryId);
    void openDeliveries();
    void copyWebhookUrl();
    void pauseRequested(bool paused);
    void selfTestRequested();
    void openLogRequested();
    void openWorkspaceRequested();
    void settingsRequested();
    void quitRequested();

private:
    void rebuildMenu();

    QSystemTrayIcon m_icon;
    std::unique_ptr<QMenu> m_menu;
    TrayView m_view;
    bool m_hasView = false;
};
