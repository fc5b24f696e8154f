// The tray menu's contents for each state, and TrayApplication over a real in-process engine:
// a failed patch turns the icon to failing, lists the delivery and notifies with its patch id;
// a port in use is reported, not fatal. Offscreen: no tray host, so the logic is what is tested.
#include "config.h"
#include "engine.h"
#include "trayapplication.h"
#include "trayicon.h"

#include <QAction>
#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

Q_DECLARE_METATYPE(Notification)

class tst_TrayMenu : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void menuForEachState_data();
    void menuForEachState();
    void recentDeliveriesAreCappedAndOpen();
    void inProcessFailedPatchNotifies();
    void portInUseIsShownAndNotified();
    void pauseFromTheMenu();
    void settingsKeepWhatTheFileHad();

private:
    static QAction *action(QMenu *menu, const QString &name);
    static TrayApplication::Options options(QTemporaryDir &dir, int port = 0);
    // What the settings dialog gives for an all-in-one engine on a free port.
    static TraySettings settings(const QTemporaryDir &dir);
};

void tst_TrayMenu::initTestCase()
{
    qRegisterMetaType<Notification>();
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"); // no desktop here: the tray path
}

QAction *tst_TrayMenu::action(QMenu *menu, const QString &name)
{
    for (QAction *a : menu->actions())
        if (a->objectName() == name)
            return a;
    return nullptr;
}

TrayApplication::Options tst_TrayMenu::options(QTemporaryDir &dir, int port)
{
    QDir().mkpath(dir.path() + "/ws");
    TrayApplication::Options o;
    (void)o.config.set("paths.workspace", dir.path() + "/ws", "test");
    (void)o.config.set("paths.state_dir", dir.path() + "/state", "test");
    (void)o.config.set("server.port", QString::number(port), "test");
    (void)o.config.finalize();
    o.settingsFile = dir.path() + "/tray.ini";
    o.configFile = dir.path() + "/ghost-runner.ini";
    return o;
}

TraySettings tst_TrayMenu::settings(const QTemporaryDir &dir)
{
    TraySettings s;
    s.bind = "127.0.0.1";
    s.port = 0;
    s.role = "all-in-one";
    s.workspace = dir.path() + "/ws";
    return s;
}

void tst_TrayMenu::menuForEachState_data()
{
    QTest::addColumn<int>("state");
    QTest::addColumn<QString>("status");
    QTest::addColumn<bool>("copyEnabled");
    QTest::addColumn<QString>("pauseText");
    QTest::addColumn<bool>("pauseEnabled");
    QTest::addColumn<bool>("selfTestEnabled");
    QTest::newRow("ok") << int(TrayState::Ok) << "Patches are flowing" << true << "Pause applying"
                        << true << true;
    QTest::newRow("busy") << int(TrayState::Busy) << "Applying a patch…" << true << "Pause applying"
                          << true << true;
    QTest::newRow("degraded") << int(TrayState::Degraded)
                              << "Runner unreachable: connection refused" << true
                              << "Pause applying" << true << true;
    QTest::newRow("paused") << int(TrayState::Paused)
                            << "Paused: patches are journaled, not applied" << true
                            << "Resume applying" << true << true;
    QTest::newRow("failing: delivery") << int(TrayState::Failing) << "Last delivery failed" << true
                                       << "Pause applying" << true << true;
    QTest::newRow("failing: not started")
        << int(TrayState::Failing) << "Not running: cannot listen on 127.0.0.1:5555: address in use"
        << false << "Pause applying" << false << false;
    QTest::newRow("failing: daemon unreachable") << int(TrayState::Failing) << "Daemon unreachable"
                                                 << false << "Pause applying" << false << false;
}

void tst_TrayMenu::menuForEachState()
{
    QFETCH(int, state);
    QFETCH(QString, status);
    QFETCH(bool, copyEnabled);
    QFETCH(QString, pauseText);
    QFETCH(bool, pauseEnabled);
    QFETCH(bool, selfTestEnabled);
    TrayView v;
    v.facts.listening = "127.0.0.1:5555";
    v.webhookUrl = "http://127.0.0.1:5555/webhook";
    const QString tag = QTest::currentDataTag();
    if (tag == "busy")
        v.facts.applying = true;
    if (tag == "degraded")
        v.facts.runnerError = "connection refused";
    if (tag == "paused")
        v.facts.paused = true;
    if (tag == "failing: delivery")
        v.facts.lastStatus = "failed";
    if (tag == "failing: not started") {
        v.facts.startError = "cannot listen on 127.0.0.1:5555: address in use";
        v.facts.listening.clear();
        v.webhookUrl.clear();
    }
    if (tag == "failing: daemon unreachable")
        v.facts.reachable = false;
    v.state = computeTrayState(v.facts);
    QCOMPARE(int(v.state), state);

    TrayIcon icon;
    icon.setView(v);
    QMenu *m = icon.menu();
    QCOMPARE(action(m, "status")->text(), status);
    QVERIFY(!action(m, "status")->isEnabled()); // a label, not a command
    QCOMPARE(action(m, "copyUrl")->isEnabled(), copyEnabled);
    QCOMPARE(action(m, "webhookUrl")->text(), copyEnabled
                                                  ? QStringLiteral("http://127.0.0.1:5555/webhook")
                                                  : QStringLiteral("Webhook: not listening"));
    QCOMPARE(action(m, "pause")->text(), pauseText);
    QCOMPARE(action(m, "pause")->isEnabled(), pauseEnabled);
    QCOMPARE(action(m, "selfTest")->isEnabled(), selfTestEnabled);
    QVERIFY(action(m, "noDeliveries"));
    for (const char *always : {"showDeliveries", "openLog", "openWorkspace", "settings", "quit"})
        QVERIFY2(action(m, always), always);
    QVERIFY(icon.systemTrayIcon()->toolTip().startsWith("Ghost Runner — "));
    QCOMPARE(TrayIcon::resourceFor(v.state, false), ":/tray/" + trayStateName(v.state) + ".svg");
    QVERIFY(QFile::exists(TrayIcon::resourceFor(v.state, false)));
    QVERIFY(QFile::exists(TrayIcon::resourceFor(v.state, true)));
    QVERIFY(!TrayIcon::iconFor(v.state).isNull());
}

void tst_TrayMenu::recentDeliveriesAreCappedAndOpen()
{
    TrayView v;
    v.facts.listening = "127.0.0.1:5555";
    v.nowMs = 1'700'000'100'000;
    for (int i = 0; i < 12; ++i) {
        Delivery d;
        d.id = QString("id-%1").arg(i);
        d.patchId = QString("patch-%1").arg(i);
        d.status = i == 0 ? "failed" : "applied";
        d.finishedAtMs = 1'700'000'000'000;
        v.recent.append(d);
    }
    TrayIcon icon;
    icon.setView(v);
    int listed = 0;
    for (QAction *a : icon.menu()->actions())
        listed += a->objectName().startsWith("delivery:") ? 1 : 0;
    QCOMPARE(listed, 10);
    QAction *first = action(icon.menu(), "delivery:id-0");
    QVERIFY(first);
    QCOMPARE(first->text(), QStringLiteral("✗  patch-0 — failed 1 min ago"));
    QVERIFY(!action(icon.menu(), "noDeliveries"));
    QSignalSpy open(&icon, &TrayIcon::openDelivery);
    first->trigger();
    QCOMPARE(open.count(), 1);
    QCOMPARE(open.at(0).at(0).toString(), QStringLiteral("id-0"));
}

void tst_TrayMenu::inProcessFailedPatchNotifies()
{
    QTemporaryDir dir;
    TrayApplication tray(options(dir));
    QSignalSpy shown(&tray, &TrayApplication::notificationShown);
    QVERIFY(tray.start().ok());
    QCOMPARE(tray.state(), TrayState::Ok);
    QVERIFY(tray.webhookUrl().startsWith("http://127.0.0.1:"));
    IntakeRequest r;
    r.body =
        R"({"id":"tray-fail-7","target_file":"missing.txt","patch":{"pattern":"a","replacement":"b"}})";
    QVERIFY(tray.engine()->intake(r).ok());
    QVERIFY(shown.wait(5000));
    const auto n = shown.at(0).at(0).value<Notification>();
    QCOMPARE(n.kind, NotificationKind::DeliveryFailed);
    QVERIFY(n.summary.contains("tray-fail-7"));
    QVERIFY2(n.body.contains("missing.txt"), qPrintable(n.body));
    QTRY_COMPARE(tray.state(), TrayState::Failing);
    QAction *item = action(tray.trayIcon()->menu(), "delivery:" + n.deliveryId);
    QVERIFY(item);
    QVERIFY(item->text().contains("tray-fail-7"));
    item->trigger(); // opens the window on that delivery with its reason
    QVERIFY(tray.deliveriesWindow());
    QCOMPARE(tray.deliveriesWindow()->currentDeliveryId(), n.deliveryId);
    QVERIFY(tray.deliveriesWindow()->detailText().contains("missing.txt"));
}

void tst_TrayMenu::portInUseIsShownAndNotified()
{
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost, 0));
    QTemporaryDir dir;
    TrayApplication tray(options(dir, taken.serverPort()));
    QSignalSpy shown(&tray, &TrayApplication::notificationShown);
    QVERIFY(!tray.start().ok());
    QCOMPARE(tray.state(), TrayState::Failing);
    QCOMPARE(shown.count(), 1);
    const auto n = shown.at(0).at(0).value<Notification>();
    QCOMPARE(n.kind, NotificationKind::ServerFailed);
    QVERIFY2(n.body.contains(QString::number(taken.serverPort())), qPrintable(n.body));
    QVERIFY(action(tray.trayIcon()->menu(), "status")->text().startsWith("Not running: "));
    QVERIFY(!action(tray.trayIcon()->menu(), "copyUrl")->isEnabled());
    // Settings fix it without a restart: another port, and the engine starts.
    const TraySettings s = settings(dir);
    const Status applied = tray.applySettings(s);
    QVERIFY2(applied.ok(), qPrintable(applied.error().message));
    QCOMPARE(tray.state(), TrayState::Ok);
    QVERIFY(QFile::exists(dir.path() + "/ghost-runner.ini"));
}

void tst_TrayMenu::pauseFromTheMenu()
{
    QTemporaryDir dir;
    TrayApplication tray(options(dir));
    QVERIFY(tray.start().ok());
    action(tray.trayIcon()->menu(), "pause")->trigger();
    QTRY_COMPARE(tray.state(), TrayState::Paused);
    QVERIFY(tray.engine()->isPaused());
    QCOMPARE(action(tray.trayIcon()->menu(), "pause")->text(), QStringLiteral("Resume applying"));
    QVERIFY(tray.engine()
                ->health()
                .toJson("t", "all-in-one", 0)
                .value("components")
                .toObject()
                .value("executor")
                .toObject()
                .value("paused")
                .toBool());
    action(tray.trayIcon()->menu(), "pause")->trigger();
    QTRY_COMPARE(tray.state(), TrayState::Ok);
}

// Settings are set in the configuration file in place: what someone wrote there stays, and the
// daemon reads the result. A file that cannot be written is an error in the dialog, not silence.
void tst_TrayMenu::settingsKeepWhatTheFileHad()
{
    QTemporaryDir dir;
    TrayApplication::Options o = options(dir);
    QFile f(o.configFile);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("# my runner; do not lose this\n[server]\nport = 0 ; any free port\n"
            "max_queue = 500\n\n[executor]\nstart_paused = false\n");
    f.close();
    TrayApplication tray(o);
    QVERIFY(tray.start().ok());
    const TraySettings s = settings(dir);
    const Status applied = tray.applySettings(s);
    QVERIFY2(applied.ok(), qPrintable(applied.error().message));
    QFile back(o.configFile);
    QVERIFY(back.open(QIODevice::ReadOnly));
    const QByteArray text = back.readAll();
    QVERIFY2(
        text.startsWith("# my runner; do not lose this\n[server]\nport = 0\nmax_queue = 500\n"),
        text.constData());
    QVERIFY2(text.contains("\n[executor]\nstart_paused = false\n"), text.constData());
    QVERIFY2(text.contains("workspace = " + dir.path().toUtf8() + "/ws\n"), text.constData());
    Config c;
    QVERIFY(c.loadFile(o.configFile).ok());
    QCOMPARE(c.maxQueue, 500);
    QCOMPARE(c.workspace, dir.path() + "/ws");

    // A configuration file where a directory is: the dialog hears why.
    TrayApplication::Options blocked = options(dir);
    blocked.configFile = dir.path() + "/ws";
    TrayApplication other(blocked);
    const Status refused = other.applySettings(s);
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().code, QString("config_not_saved"));
}

QTEST_MAIN(tst_TrayMenu)
#include "tst_traymenu.moc"
