#include "trayapplication.h"

#include "autostart.h"
#include "daemonclient.h"
#include "deliverieswindow.h"
#include "desktopnotifications.h"
#include "engine.h"
#include "inifile.h"
#include "secretstore.h"
#include "selftest.h"
#include "settingsdialog.h"
#include "trayicon.h"

#include <QApplication>
#include <QClipboard>
#include <QCursor>
#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QMenu>
#include <QTimer>

Q_LOGGING_CATEGORY(lcTray, "ghostrunner.tray")

namespace {
// The address a local client uses to reach a server bound to a wildcard address.
QString reachableAddress(const QString &listening)
{
    if (listening.startsWith(QLatin1String("0.0.0.0:")))
        return QStringLiteral("127.0.0.1") + listening.mid(7);
    if (listening.startsWith(QLatin1String("[::]:")))
        return QStringLiteral("[::1]") + listening.mid(4);
    return listening;
}
} // namespace

TrayApplication::TrayApplication(Options options, QObject *parent)
    : QObject(parent), m_options(std::move(options))
{
    m_prefs =
        m_options.settingsFile.isEmpty()
            ? std::make_unique<QSettings>(QSettings::IniFormat, QSettings::UserScope,
                                          QStringLiteral("ghost-runner"), QStringLiteral("tray"))
            : std::make_unique<QSettings>(m_options.settingsFile, QSettings::IniFormat);
    loadPreferences();
    m_icon = new TrayIcon(this);
    m_desktop = new DesktopNotifications(m_icon->systemTrayIcon(), this);
    connect(&m_notifier, &Notifier::notify, this, [this](const Notification &n) {
        m_desktop->show(n);
        emit notificationShown(n);
    });
    connect(m_desktop, &DesktopNotifications::activated, this, [this](const QString &id) {
        if (id.isEmpty())
            openDeliveries();
        else
            openDelivery(id);
    });
    connect(m_icon, &TrayIcon::openDelivery, this, &TrayApplication::openDelivery);
    connect(m_icon, &TrayIcon::openDeliveries, this, &TrayApplication::openDeliveries);
    connect(m_icon, &TrayIcon::settingsRequested, this, &TrayApplication::openSettings);
    connect(m_icon, &TrayIcon::quitRequested, qApp, &QCoreApplication::quit);
    connect(m_icon, &TrayIcon::copyWebhookUrl, this,
            [this] { QGuiApplication::clipboard()->setText(webhookUrl()); });
    connect(m_icon, &TrayIcon::pauseRequested, this, [this](bool paused) {
        if (m_engine && m_engine->isRunning())
            m_engine->setPaused(paused);
    });
    connect(m_icon, &TrayIcon::selfTestRequested, this, &TrayApplication::runSelfTest);
    connect(m_icon, &TrayIcon::openLogRequested, this, [this] {
        openLocalPath(stateDir() + QStringLiteral("/logs/delivery-confirmation.log"));
    });
    connect(m_icon, &TrayIcon::openWorkspaceRequested, this,
            [this] { openLocalPath(workspaceDir()); });
    // The relative times in the menu ("2 min ago") are brought up to date when it opens.
    connect(m_icon->menu(), &QMenu::aboutToShow, this, [this] {
        if (m_refreshQueued)
            return;
        pushView();
    });
}

TrayApplication::~TrayApplication()
{
    if (m_engine)
        m_engine->stop();
}

void TrayApplication::loadPreferences()
{
    for (NotificationKind k : Notifier::allKinds())
        m_notifier.setEnabled(
            k, m_prefs->value(QStringLiteral("notify/") + Notifier::kindKey(k), true).toBool());
}

Status TrayApplication::start()
{
    Status result;
    if (isAttached()) {
        m_facts.reachable = false;
        m_client = new DaemonClient(m_options.attachUrl, m_options.token, this);
        connect(m_client, &DaemonClient::connectedChanged, this,
                [this](bool connected, const QString &reason) {
                    m_facts.reachable = connected;
                    if (!connected)
                        qCInfo(lcTray, "daemon unreachable: %s (reconnecting in %d ms)",
                               qPrintable(reason), m_client->reconnectDelayMs());
                    pushView();
                });
        connect(m_client, &DaemonClient::healthReceived, this, [this](const QJsonObject &h) {
            m_daemonHealth = h;
            refresh();
        });
        connect(m_client, &DaemonClient::deliveriesReceived, this,
                [this](const QList<Delivery> &list) {
                    m_recent = list.mid(0, TrayIcon::kRecentInMenu);
                    if (m_window)
                        m_window->setDeliveries(list);
                    pushView();
                });
        connect(m_client, &DaemonClient::deliveryEvent, this,
                [this](const QString &id, const QString &, const QString &status) {
                    if (status == QLatin1String("applying") ||
                        status == QLatin1String("forwarding"))
                        m_applying = id;
                    else if (id == m_applying)
                        m_applying.clear();
                    if (Delivery::isFinalStatus(status)) {
                        m_notifyWhenFetched.append(id);
                        m_client->fetchDelivery(id);
                        m_client->fetchHealth();
                    }
                    m_client->fetchDeliveries(m_window ? 500 : TrayIcon::kRecentInMenu);
                });
        connect(m_client, &DaemonClient::deliveryReceived, this, [this](const Delivery &d) {
            if (m_notifyWhenFetched.removeAll(d.id) > 0)
                m_notifier.deliveryFinished(d.id, d.patchId, d.outcome);
            if (m_window && m_window->currentDeliveryId() == d.id) {
                QFile copy(stateDir() + QStringLiteral("/patches/") + d.id +
                           QStringLiteral(".json"));
                const QByteArray body =
                    copy.open(QIODevice::ReadOnly) ? copy.readAll() : QByteArray();
                m_window->showDetail(d, body);
            }
        });
        connect(m_client, &DaemonClient::healthEvent, this,
                [this](Health now, Health previous, const QStringList &) {
                    m_notifier.healthChanged(now, previous);
                    m_client->fetchHealth();
                });
        connect(m_client, &DaemonClient::replayFinished, this, [this](bool ok, const QString &m) {
            if (m_window)
                m_window->showMessage(ok ? QStringLiteral("Replayed as delivery %1").arg(m)
                                         : QStringLiteral("Replay refused: %1").arg(m));
        });
        m_client->start();
    } else {
        result = startEngine();
    }
    pushView();
    m_icon->show();
    return result;
}

Status TrayApplication::startEngine()
{
    m_engine = std::make_unique<Engine>(m_options.config);
    Engine *e = m_engine.get();
    connect(e, &Engine::deliveryChanged, this,
            [this](const QString &id, const QString &, const QString &status) {
                if (status == QLatin1String("applying") || status == QLatin1String("forwarding"))
                    m_applying = id;
                else if (id == m_applying)
                    m_applying.clear();
                scheduleRefresh();
            });
    connect(e, &Engine::deliveryFinished, this,
            [this](const QString &id, const QString &patchId, const Outcome &o) {
                m_notifier.deliveryFinished(id, patchId, o);
            });
    connect(e, &Engine::healthChanged, this, [this](Health now, Health previous) {
        m_notifier.healthChanged(now, previous);
        scheduleRefresh();
    });
    connect(e, &Engine::pausedChanged, this, &TrayApplication::scheduleRefresh);
    connect(e, &Engine::configChanged, this, &TrayApplication::scheduleRefresh);
    const Status s = e->start();
    if (!s.ok()) {
        m_startError = s.error().message;
        m_notifier.serverFailed(m_startError);
        qCWarning(lcTray, "the engine could not start: %s", qPrintable(m_startError));
    } else {
        m_startError.clear();
    }
    refresh();
    return s;
}

void TrayApplication::scheduleRefresh()
{
    // Several signals for one delivery become one refresh; the timer runs only after an event.
    if (m_refreshQueued)
        return;
    m_refreshQueued = true;
    QTimer::singleShot(0, this, [this] {
        m_refreshQueued = false;
        refresh();
    });
}

void TrayApplication::refresh()
{
    if (m_engine) {
        const HealthReport h = m_engine->health();
        m_facts = TrayFacts::fromHealthJson(h.toJson(
            QStringLiteral(GR_VERSION), m_engine->config().role, m_engine->uptimeSeconds()));
        m_facts.startError = m_startError;
        if (!m_startError.isEmpty())
            m_facts.listening.clear();
        DeliveryFilter f;
        f.limit = TrayIcon::kRecentInMenu;
        if (m_engine->journal()->isOpen()) {
            const Result<QList<Delivery>> list = m_engine->journal()->list(f);
            if (list.ok())
                m_recent = *list;
        }
        if (m_window && m_window->isVisible())
            refreshWindow();
    } else if (m_client) {
        const bool reachable = m_client->isConnected();
        m_facts = TrayFacts::fromHealthJson(m_daemonHealth);
        m_facts.reachable = reachable;
    }
    m_facts.applying = !m_applying.isEmpty();
    if (m_facts.applying && m_facts.queued > 0)
        m_facts.queued = qMax(0, m_facts.queued); // pending includes the one applying
    for (const Delivery &d : std::as_const(m_recent)) {
        if (d.isFinal()) {
            m_facts.lastAtMs = d.finishedAtMs;
            if (m_facts.lastStatus.isEmpty())
                m_facts.lastStatus = d.status;
            break;
        }
    }
    m_notifier.runnerReachability(m_facts.runnerError);
    pushView();
}

void TrayApplication::pushView()
{
    TrayView v;
    v.facts = m_facts;
    v.state = computeTrayState(m_facts);
    v.recent = m_recent;
    v.webhookUrl = webhookUrl();
    v.canPause = !isAttached();
    v.hasLog = !stateDir().isEmpty();
    v.hasWorkspace = !workspaceDir().isEmpty();
    v.selfTestRunning = m_selfTestRunning;
    v.nowMs = QDateTime::currentMSecsSinceEpoch();
    m_icon->setView(v);
    emit viewUpdated();
}

QString TrayApplication::webhookUrl() const
{
    if (m_facts.listening.isEmpty() || !m_facts.reachable)
        return QString();
    if (m_client) {
        QUrl u = m_options.attachUrl;
        u.setPath(QStringLiteral("/webhook"));
        return u.toString();
    }
    return QStringLiteral("http://%1/webhook").arg(reachableAddress(m_facts.listening));
}

QString TrayApplication::stateDir() const
{
    if (m_engine)
        return m_engine->config().stateDir;
    // Attached: the journal's path in /health tells where the daemon keeps its state, which
    // is only useful when it is on this machine.
    const QString journal = m_daemonHealth.value("components")
                                .toObject()
                                .value("journal")
                                .toObject()
                                .value("path")
                                .toString();
    if (journal.isEmpty() || !QFileInfo::exists(journal))
        return QString();
    return QFileInfo(journal).absolutePath();
}

QString TrayApplication::workspaceDir() const
{
    if (m_engine)
        return m_engine->executesPatches() ? m_engine->config().workspace : QString();
    const QString ws = m_daemonHealth.value("components")
                           .toObject()
                           .value("executor")
                           .toObject()
                           .value("workspace")
                           .toString();
    return QFileInfo(ws).isDir() ? ws : QString();
}

void TrayApplication::openLocalPath(const QString &path)
{
    if (!path.isEmpty())
        QDesktopServices::openUrl(QUrl::fromLocalFile(path));
}

void TrayApplication::runSelfTest()
{
    if (m_selfTestRunning || m_facts.listening.isEmpty())
        return;
    QUrl base = m_client ? m_options.attachUrl
                         : QUrl(QStringLiteral("http://") + reachableAddress(m_facts.listening));
    base.setPath(QString());
    const QByteArray secret = m_engine ? m_engine->config().secret : m_options.token;
    const QString log = stateDir().isEmpty()
                            ? QString()
                            : stateDir() + QStringLiteral("/logs/delivery-confirmation.log");
    auto *test = new SelfTest(base, secret, log, this);
    m_selfTestRunning = true;
    pushView();
    connect(test, &SelfTest::finished, this, [this, test](bool ok, const QString &message) {
        test->deleteLater();
        m_selfTestRunning = false;
        pushView();
        Notification n;
        n.kind = ok ? NotificationKind::Recovered : NotificationKind::DeliveryFailed;
        n.summary = ok ? QStringLiteral("Self-test passed") : QStringLiteral("Self-test failed");
        n.body = message;
        n.deliveryId = test->deliveryId();
        m_desktop->show(n); // asked for: shown whatever the notification settings say
        emit notificationShown(n);
    });
    test->start(30000);
}

void TrayApplication::openDeliveries()
{
    if (!m_window) {
        m_window = new DeliveriesWindow;
        m_window->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_window, &DeliveriesWindow::detailRequested, this,
                &TrayApplication::requestDetail);
        connect(m_window, &DeliveriesWindow::replayRequested, this, &TrayApplication::replay);
    }
    refreshWindow();
    m_window->show();
    m_window->raise();
    m_window->activateWindow();
}

void TrayApplication::openDelivery(const QString &id)
{
    openDeliveries();
    m_window->selectDelivery(id);
}

void TrayApplication::refreshWindow()
{
    if (!m_window)
        return;
    if (m_engine && m_engine->journal()->isOpen()) {
        DeliveryFilter f;
        f.limit = 500;
        const Result<QList<Delivery>> list = m_engine->journal()->list(f);
        if (list.ok())
            m_window->setDeliveries(*list);
        else
            m_window->showMessage(list.error().message);
    } else if (m_client) {
        m_client->fetchDeliveries(500);
    }
}

void TrayApplication::requestDetail(const QString &id)
{
    if (m_engine && m_engine->journal()->isOpen()) {
        const Result<Delivery> d = m_engine->journal()->find(id, true);
        if (d.ok())
            m_window->showDetail(*d, m_engine->journal()->body(id));
        else
            m_window->showMessage(d.error().message);
    } else if (m_client) {
        m_client->fetchDelivery(id);
    }
}

void TrayApplication::replay(const QString &id)
{
    if (m_engine) {
        const Result<RecordResult> r = m_engine->replay(id);
        m_window->showMessage(r.ok() ? QStringLiteral("Replayed as delivery %1").arg(r->delivery.id)
                                     : QStringLiteral("Replay refused: %1").arg(r.error().message));
        refreshWindow();
    } else if (m_client) {
        m_client->replay(id);
    }
}

TraySettings TrayApplication::currentSettings() const
{
    TraySettings s;
    const Config &c = m_engine ? m_engine->config() : m_options.config;
    s.bind = c.bind;
    s.port = m_engine && m_engine->isRunning() && c.port == 0 ? 0 : c.effectivePort();
    s.role = c.role;
    s.workspace = c.workspace;
    s.runnerUrl = c.runnerUrl;
    s.secret = c.secret;
    for (NotificationKind k : Notifier::allKinds())
        s.notify.insert(int(k), m_notifier.isEnabled(k));
    s.startAtLogin = Autostart::isEnabled();
    return s;
}

void TrayApplication::openSettings()
{
    if (!m_settings) {
        const QString note =
            SecretStore::keychainBuiltIn()
                ? QStringLiteral("The secret is kept in the system keychain, never in the "
                                 "settings file.")
                : QStringLiteral("This build has no keychain support (QtKeychain): the secret is "
                                 "kept only in a secret file readable by you alone (0600), never "
                                 "in the settings file.");
        m_settings = new SettingsDialog(currentSettings(), note, isAttached());
        m_settings->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_settings, &SettingsDialog::applyRequested, this, [this](const TraySettings &s) {
            const Status r = applySettings(s);
            m_settings->showError(r.ok() ? QString() : r.error().message);
        });
    }
    m_settings->show();
    m_settings->raise();
    m_settings->activateWindow();
}

Status TrayApplication::applySettings(const TraySettings &s)
{
    for (auto it = s.notify.constBegin(); it != s.notify.constEnd(); ++it) {
        m_notifier.setEnabled(NotificationKind(it.key()), it.value());
        m_prefs->setValue(QStringLiteral("notify/") + Notifier::kindKey(NotificationKind(it.key())),
                          it.value());
    }
    m_prefs->sync();
    if (s.startAtLogin != Autostart::isEnabled()) {
        QStringList args = QCoreApplication::arguments().mid(1);
        if (Status a = Autostart::setEnabled(s.startAtLogin,
                                             QCoreApplication::applicationFilePath(), args);
            !a.ok())
            return a;
    }
    if (isAttached())
        return {};

    Config next = m_engine ? m_engine->config() : m_options.config;
    const QString origin = QStringLiteral("settings");
    const struct
    {
        const char *key;
        QString value;
    } edits[] = {{"server.bind", s.bind},
                 {"server.port", QString::number(s.port)},
                 {"paths.workspace", s.workspace},
                 {"relay.runner_url", s.runnerUrl}};
    for (const auto &e : edits) {
        if (Status st = next.set(QLatin1String(e.key), e.value, origin); !st.ok())
            return st;
    }
    if (s.secretChanged) {
        SecretStore store(next.stateDir, next.stateDir + QStringLiteral("/tray-secret"));
        const Result<QString> where = store.write(s.secret);
        if (!where.ok())
            return where.error();
        m_prefs->setValue(QStringLiteral("secret/in_keychain"), where->isEmpty());
        if (!where->isEmpty()) {
            if (Status st = next.set(QStringLiteral("auth.secret_file"), *where, origin); !st.ok())
                return st;
        }
    }
    if (Status st = next.finalize(); !st.ok())
        return st;
    if (s.secretChanged)
        next.secret = s.secret;
    const bool roleChanged = s.role != next.role;

    // Saved in the daemon's own INI format, so `ghost-runner serve --config` reads the same file;
    // set in place, so the comments and keys someone wrote there stay.
    if (!m_options.configFile.isEmpty()) {
        QDir().mkpath(QFileInfo(m_options.configFile).absolutePath());
        QList<IniFile::Assignment> keys{{QStringLiteral("server/bind"), next.bind},
                                        {QStringLiteral("server/port"), QString::number(next.port)},
                                        {QStringLiteral("server/role"), s.role},
                                        {QStringLiteral("paths/workspace"), next.workspace}};
        if (!next.runnerUrl.isEmpty())
            keys.append({QStringLiteral("relay/runner_url"), next.runnerUrl});
        if (!next.secretFile.isEmpty())
            keys.append({QStringLiteral("auth/secret_file"), next.secretFile});
        if (Status st = IniFile::setValues(m_options.configFile, keys); !st.ok())
            return st;
    }

    if (m_engine && m_engine->isRunning()) {
        if (Status st = m_engine->reload(next); !st.ok())
            return st;
    } else {
        // The engine never started (e.g. the port was taken): try again with the new settings.
        m_options.config = next;
        m_engine.reset();
        if (Status st = startEngine(); !st.ok())
            return st;
    }
    m_options.config = next;
    refresh();
    if (roleChanged)
        return makeError(
            "restart_needed",
            QStringLiteral("Saved. The role changes to %1 at the next start.").arg(s.role));
    return {};
}

void TrayApplication::popupMenu()
{
    QMenu *m = m_icon->menu();
    pushView();
    m->popup(QCursor::pos());
}

void TrayApplication::handleMessage(const QString &message)
{
    const QString verb = message.section(QLatin1Char(' '), 0, 0);
    const QString arg = message.section(QLatin1Char(' '), 1);
    if (verb == QLatin1String("open-delivery") && !arg.isEmpty())
        openDelivery(arg);
    else if (verb == QLatin1String("settings"))
        openSettings();
    else if (verb == QLatin1String("menu"))
        popupMenu();
    else
        openDeliveries(); // "show": a second launch focuses the first
}
