#include "trayicon.h"

#include <QAction>

// Q_INIT_RESOURCE must be called outside any namespace; the icons live in the static library.
static void initTrayResources()
{
    Q_INIT_RESOURCE(tray);
}

TrayIcon::TrayIcon(QObject *parent) : QObject(parent), m_menu(std::make_unique<QMenu>())
{
    initTrayResources();
    m_icon.setContextMenu(m_menu.get());
    connect(&m_icon, &QSystemTrayIcon::activated, this,
            [this](QSystemTrayIcon::ActivationReason r) {
                if (r == QSystemTrayIcon::DoubleClick)
                    emit openDeliveries();
            });
    rebuildMenu();
}

TrayIcon::~TrayIcon()
{
    m_icon.setContextMenu(nullptr);
}

QString TrayIcon::resourceFor(TrayState state, bool monochrome)
{
    return QStringLiteral(":/tray/%1%2.svg")
        .arg(monochrome ? QStringLiteral("mono-") : QString(), trayStateName(state));
}

QIcon TrayIcon::iconFor(TrayState state)
{
#ifdef Q_OS_MACOS
    QIcon icon(resourceFor(state, true));
    icon.setIsMask(true); // a template image: the menu bar tints it for light and dark
    return icon;
#else
    return QIcon(resourceFor(state, false));
#endif
}

QString TrayIcon::outcomeMark(const QString &status)
{
    if (status == QLatin1String("applied"))
        return QStringLiteral("✓");
    if (status == QLatin1String("failed"))
        return QStringLiteral("✗");
    if (status == QLatin1String("rejected"))
        return QStringLiteral("⊘");
    if (status == QLatin1String("dead"))
        return QStringLiteral("☠");
    return QStringLiteral("…"); // queued, applying, forwarding
}

void TrayIcon::setView(const TrayView &view)
{
    const bool iconChanged = !m_hasView || view.state != m_view.state;
    m_view = view;
    m_hasView = true;
    if (iconChanged)
        m_icon.setIcon(iconFor(view.state));
    m_icon.setToolTip(QStringLiteral("Ghost Runner — ") + trayTooltip(view.facts, view.nowMs));
    rebuildMenu();
}

void TrayIcon::rebuildMenu()
{
    QMenu *m = m_menu.get();
    m->clear();
    const TrayView &v = m_view;

    QAction *status = m->addAction(trayStatusLine(v.state, v.facts));
    status->setObjectName(QStringLiteral("status"));
    status->setEnabled(false);
    status->setIcon(iconFor(v.state));

    const bool listening =
        !v.webhookUrl.isEmpty() && !v.facts.listening.isEmpty() && v.facts.reachable;
    QAction *url =
        m->addAction(listening ? v.webhookUrl : QStringLiteral("Webhook: not listening"));
    url->setObjectName(QStringLiteral("webhookUrl"));
    url->setEnabled(false);
    QAction *copy =
        m->addAction(QStringLiteral("Copy webhook URL"), this, &TrayIcon::copyWebhookUrl);
    copy->setObjectName(QStringLiteral("copyUrl"));
    copy->setEnabled(listening);

    m->addSection(QStringLiteral("Recent deliveries"));
    if (v.recent.isEmpty()) {
        QAction *none = m->addAction(QStringLiteral("No deliveries yet"));
        none->setObjectName(QStringLiteral("noDeliveries"));
        none->setEnabled(false);
    }
    for (int i = 0; i < v.recent.size() && i < kRecentInMenu; ++i) {
        const Delivery &d = v.recent.at(i);
        const qint64 at = d.finishedAtMs > 0 ? d.finishedAtMs : d.receivedAtMs;
        const QString text = QStringLiteral("%1  %2 — %3 %4")
                                 .arg(outcomeMark(d.status), d.patchId, d.status,
                                      at > 0 ? relativeAge(at, v.nowMs) : QString())
                                 .trimmed();
        QAction *a = m->addAction(text);
        a->setObjectName(QStringLiteral("delivery:") + d.id);
        a->setData(d.id);
        const QString id = d.id;
        connect(a, &QAction::triggered, this, [this, id] { emit openDelivery(id); });
    }
    QAction *all =
        m->addAction(QStringLiteral("Show all deliveries…"), this, &TrayIcon::openDeliveries);
    all->setObjectName(QStringLiteral("showDeliveries"));
    m->addSeparator();

    const bool paused = v.facts.paused;
    QAction *pause =
        m->addAction(paused ? QStringLiteral("Resume applying") : QStringLiteral("Pause applying"));
    pause->setObjectName(QStringLiteral("pause"));
    pause->setEnabled(v.canPause && v.facts.reachable && v.facts.startError.isEmpty());
    if (!v.canPause)
        pause->setToolTip(QStringLiteral("Pause the daemon itself; the tray only watches it"));
    connect(pause, &QAction::triggered, this, [this, paused] { emit pauseRequested(!paused); });

    QAction *selfTest = m->addAction(v.selfTestRunning ? QStringLiteral("Self-test running…")
                                                       : QStringLiteral("Run self-test"),
                                     this, &TrayIcon::selfTestRequested);
    selfTest->setObjectName(QStringLiteral("selfTest"));
    selfTest->setEnabled(listening && !v.selfTestRunning);

    QAction *log =
        m->addAction(QStringLiteral("Open confirmation log"), this, &TrayIcon::openLogRequested);
    log->setObjectName(QStringLiteral("openLog"));
    log->setEnabled(v.hasLog);
    QAction *ws =
        m->addAction(QStringLiteral("Open workspace"), this, &TrayIcon::openWorkspaceRequested);
    ws->setObjectName(QStringLiteral("openWorkspace"));
    ws->setEnabled(v.hasWorkspace);
    m->addSeparator();
    QAction *settings =
        m->addAction(QStringLiteral("Settings…"), this, &TrayIcon::settingsRequested);
    settings->setObjectName(QStringLiteral("settings"));
    QAction *quit =
        m->addAction(QStringLiteral("Quit Ghost Runner"), this, &TrayIcon::quitRequested);
    quit->setObjectName(QStringLiteral("quit"));
}
