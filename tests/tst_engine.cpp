// The composition root in process: start (and every reason it refuses to), stop, reload (and
// what it refuses without disturbing the running engine), the health components, the /metrics
// gauges, and recovery on start from a journal a crash left behind.

#include "confirmationlog.h"
#include "daemonprocess.h"
#include "dispatcher.h"
#include "engine.h"
#include "testsupport.h"
#include "workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <functional>
#include <memory>

Q_DECLARE_METATYPE(Health)

namespace {
QByteArray mutation(const QString &id, const QString &path = "a.txt", const QString &text = "x")
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"mutations",
                                      QJsonArray{QJsonObject{{"path", path}, {"contents", text}}}}})
        .toJson(QJsonDocument::Compact);
}

QByteArray failing(const QString &id)
{
    return QJsonDocument(
               QJsonObject{{"id", id},
                           {"target_file", "keep.txt"},
                           {"patch", QJsonObject{{"pattern", "absent"}, {"replacement", "y"}}}})
        .toJson(QJsonDocument::Compact);
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

bool accepts(quint16 port)
{
    QTcpSocket s;
    QSignalSpy connected(&s, &QTcpSocket::connected);
    QSignalSpy failed(&s, &QTcpSocket::errorOccurred);
    s.connectToHost(QHostAddress::LocalHost, port);
    for (int i = 0; i < 50 && connected.isEmpty() && failed.isEmpty(); ++i)
        connected.wait(100);
    return !connected.isEmpty();
}

QStringList states(const Delivery &d)
{
    QStringList out;
    for (const DeliveryEvent &e : d.events)
        out.append(e.state);
    return out;
}

int logLinesFor(const QString &logPath, const QString &delivery)
{
    return int(TestSupport::readFile(logPath).count("\"delivery\":\"" + delivery.toUtf8() + '"'));
}
} // namespace

class tst_Engine : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Engine> m_engine;
    // A test function whose data rows share one engine (each row leaves it as it was).
    QByteArray m_sharedBy;

    QString path(const QString &name) const { return m_dir->filePath(name); }
    Config config(const std::function<void(Config &)> &adjust = {}) const
    {
        Config c;
        c.port = 0;
        c.workspace = path("ws");
        c.stateDir = path("state");
        if (adjust)
            adjust(c);
        return c;
    }
    bool start(const std::function<void(Config &)> &adjust = {})
    {
        m_engine = std::make_unique<Engine>(config(adjust));
        const Status s = m_engine->start();
        if (!s.ok())
            qWarning("%s", qPrintable(s.error().message));
        return s.ok();
    }
    Delivery send(const QByteArray &body)
    {
        IntakeRequest in;
        in.body = body;
        const Result<RecordResult> r = m_engine->intake(in);
        return r.ok() ? r->delivery : Delivery();
    }
    QString statusOf(const QString &id) const
    {
        const Result<Delivery> d = m_engine->journal()->find(id, false);
        return d.ok() ? d->status : QString();
    }
    QJsonObject healthJson() const { return m_engine->health().toJson("v", "r", 0); }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules("ghostrunner.*.info=false\nghostrunner.*.warning=false");
        qRegisterMetaType<Outcome>();
        qRegisterMetaType<Health>();
    }
    void init()
    {
        if (m_engine && m_sharedBy == QTest::currentTestFunction())
            return;
        m_sharedBy.clear();
        m_engine.reset();
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        QVERIFY(QDir().mkpath(path("ws")));
        TestSupport::writeTree(path("ws"), {{"keep.txt", "keep\n"}});
    }
    void cleanup()
    {
        if (m_sharedBy == QTest::currentTestFunction())
            return;
        m_engine.reset();
        m_dir.reset();
    }

    void startRefusals_data()
    {
        QTest::addColumn<QString>("setup");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("says");
        QTest::newRow("state dir under a file") << "state-under-file"
                                                << "state_dir_unwritable"
                                                << "cannot create the state directory";
        QTest::newRow("journal is a directory") << "journal-dir"
                                                << "journal_failed"
                                                << "journal";
        QTest::newRow("log is a directory") << "log-dir"
                                            << "log_not_writable"
                                            << "delivery-confirmation.log";
        QTest::newRow("workspace missing") << "no-workspace"
                                           << "workspace_missing"
                                           << "does not exist";
        QTest::newRow("workspace is a file") << "workspace-file"
                                             << "workspace_missing"
                                             << "is not a directory";
        QTest::newRow("port in use") << "port-in-use"
                                     << "listen_failed"
                                     << "address in use";
        QTest::newRow("address not ours") << "foreign-address"
                                          << "listen_failed"
                                          << "cannot listen on 192.0.2.123:";
    }
    void startRefusals()
    {
        QFETCH(QString, setup);
        QFETCH(QString, code);
        QFETCH(QString, says);
        QTcpServer squatter;
        Config c = config();
        if (setup == "state-under-file") {
            QVERIFY(TestSupport::writeFile(path("plainfile"), "x"));
            c.stateDir = path("plainfile/state");
        } else if (setup == "journal-dir") {
            QVERIFY(QDir().mkpath(c.stateDir + "/journal.sqlite"));
        } else if (setup == "log-dir") {
            QVERIFY(QDir().mkpath(c.stateDir + "/logs/delivery-confirmation.log"));
        } else if (setup == "no-workspace") {
            c.workspace = path("missing");
        } else if (setup == "workspace-file") {
            c.workspace = path("ws/keep.txt");
        } else if (setup == "port-in-use") {
            QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
            c.port = squatter.serverPort();
        } else if (setup == "foreign-address") {
            c.bind = "192.0.2.123"; // TEST-NET-1: no interface here has it
        }
        m_engine = std::make_unique<Engine>(c);
        const Status s = m_engine->start();
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, code);
        QVERIFY2(s.error().message.contains(says), qPrintable(s.error().message));
        QVERIFY(!m_engine->isRunning());
        QVERIFY(m_engine->listeningAddress().isEmpty());
        QCOMPARE(m_engine->port(), quint16(0));
        QCOMPARE(m_engine->health().overall(), Health::Failing);
        if (setup == "port-in-use")
            QVERIFY(s.error().message.startsWith(
                QStringLiteral("cannot listen on 127.0.0.1:%1: ").arg(c.port)));
        m_engine->stop(); // harmless on an engine that never ran
        QVERIFY(!m_engine->isRunning());
    }

    void startListensAndIsHealthy()
    {
        QVERIFY(start());
        QVERIFY(m_engine->isRunning());
        QVERIFY(m_engine->port() > 0);
        QCOMPARE(m_engine->listeningAddress(), "127.0.0.1:" + QString::number(m_engine->port()));
        QCOMPARE(m_engine->webhookUrl(), "http://" + m_engine->listeningAddress() + "/webhook");
        QVERIFY(accepts(m_engine->port()));
        for (const char *sub : {"journal.sqlite", "logs/delivery-confirmation.log", "patches"})
            QVERIFY2(QFileInfo::exists(path("state/") + sub), sub);
        const QJsonObject h = healthJson();
        QCOMPARE(h["status"].toString(), QString("ok"));
        QCOMPARE(h["components"].toObject().keys(), (QStringList{"executor", "journal", "server"}));
        QCOMPARE(jsonAt(h, "components/server/listening").toString(), m_engine->listeningAddress());
        QCOMPARE(jsonAt(h, "components/journal/pending").toInt(), 0);
        QCOMPARE(jsonAt(h, "components/executor/workspace").toString(),
                 QFileInfo(path("ws")).canonicalFilePath());
        QCOMPARE(jsonAt(h, "components/executor/writable").toBool(), true);
        QVERIFY(jsonAt(h, "components/executor/last_result").isNull());
        QVERIFY(m_engine->executesPatches());
        QVERIFY(m_engine->workspace());
        QVERIFY(!m_engine->forwarder());
    }

    void relayHealthHasAForwarderInsteadOfAnExecutor()
    {
        QVERIFY(start([](Config &c) {
            c.role = "relay";
            c.runnerUrl = "http://127.0.0.1:9"; // nothing is sent in this test
        }));
        QVERIFY(!m_engine->executesPatches());
        QVERIFY(m_engine->forwarder());
        QVERIFY(!m_engine->workspace());
        const QJsonObject h = healthJson();
        QCOMPARE(h["components"].toObject().keys(),
                 (QStringList{"forwarder", "journal", "server"}));
        QCOMPARE(jsonAt(h, "components/forwarder/runner_url").toString(),
                 QString("http://127.0.0.1:9"));
        QCOMPARE(jsonAt(h, "components/forwarder/queue").toInt(), 0);
        QCOMPARE(h["status"].toString(), QString("ok"));
    }

    void intakeAppliesAndLogs()
    {
        QVERIFY(start());
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        QSignalSpy changed(m_engine.get(), &Engine::deliveryChanged);
        // Whoever hears of the outcome sees the workspace as it stays: no rollback data left.
        TestSupport::writeFile(path("ws/a.txt"), "before"); // so that it has a backup
        QStringList leftAtFinish{"(not finished)"};
        connect(m_engine.get(), &Engine::deliveryFinished, this, [&] {
            leftAtFinish =
                TestSupport::sideFiles(path("ws")) + m_engine->workspace()->openTransactions();
        });
        const Delivery d = send(mutation("p1"));
        QVERIFY(!d.id.isEmpty());
        QCOMPARE(d.status, QString("queued"));
        m_engine->flushArchive();
        QCOMPARE(TestSupport::readFile(path("state/patches/") + d.id + ".json"), mutation("p1"));
        QVERIFY(finished.wait(3000));
        QCOMPARE(finished.first().at(0).toString(), d.id);
        QCOMPARE(finished.first().at(1).toString(), QString("p1"));
        QCOMPARE(finished.first().at(2).value<Outcome>().status, QString("applied"));
        QStringList seen;
        for (const auto &args : changed)
            seen.append(args.at(2).toString());
        QCOMPARE(seen, (QStringList{"queued", "applying", "applied"}));
        QCOMPARE(TestSupport::readFile(path("ws/a.txt")), QByteArray("x"));
        QCOMPARE(leftAtFinish, QStringList());
        QCOMPARE(logLinesFor(m_engine->confirmationLog()->path(), d.id), 1);
        QCOMPARE(jsonAt(healthJson(), "components/executor/last_result").toString(),
                 QString("applied"));
    }

    void intakeRefusalsLeaveNothing_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("code");
        QTest::newRow("empty") << QByteArray() << "bad_json";
        QTest::newRow("not JSON") << QByteArray("patch please") << "bad_json";
        QTest::newRow("no id") << QByteArray(R"({"mutations":[]})") << "missing_id";
        QTest::newRow("unknown format")
            << QByteArray(R"({"id":"a","format":"x"})") << "unknown_format";
    }
    void intakeRefusalsLeaveNothing()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, code);
        QVERIFY(start());
        IntakeRequest in;
        in.body = body;
        const Result<RecordResult> r = m_engine->intake(in);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, code);
        QVERIFY(m_engine->journal()->countsByStatus().isEmpty());
        QVERIFY(QDir(path("state/patches")).isEmpty());
        QCOMPARE(m_engine->health().overall(), Health::Ok);
    }

    void replayRules()
    {
        QVERIFY(start([](Config &c) { c.startPaused = true; }));
        const Result<RecordResult> unknown = m_engine->replay("no-such-delivery");
        QVERIFY(!unknown.ok());
        QCOMPARE(unknown.error().code, QString("not_found"));
        const Delivery d = send(mutation("r1"));
        const Result<RecordResult> early = m_engine->replay(d.id);
        QVERIFY(!early.ok());
        QCOMPARE(early.error().code, QString("not_finished"));
        QVERIFY(early.error().message.contains("queued"));
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        m_engine->setPaused(false);
        QVERIFY(finished.wait(3000));
        const Result<RecordResult> again = m_engine->replay(d.id);
        QVERIFY2(again.ok(), qPrintable(again.error().message));
        QVERIFY(!again->duplicate);
        QVERIFY(again->delivery.id != d.id);
        QCOMPARE(again->delivery.replayOf, d.id);
        QCOMPARE(again->delivery.patchId, QString("r1"));
        QCOMPARE(m_engine->journal()->find(again->delivery.id, false)->source, QString("replay"));
        QVERIFY(finished.wait(3000));
        QCOMPARE(statusOf(again->delivery.id), QString("applied"));
    }

    void stopIsIdempotentAndClosesIntake()
    {
        QVERIFY(start());
        const quint16 port = m_engine->port();
        m_engine->stop();
        QVERIFY(!m_engine->isRunning());
        m_engine->stop();
        QVERIFY(!accepts(port));
        const QJsonObject h = healthJson();
        QCOMPARE(jsonAt(h, "components/server/status").toString(), QString("failing"));
        QVERIFY(jsonAt(h, "components/server/listening").isNull());
        QCOMPARE(m_engine->reload(config()).error().code, QString("not_running"));
    }

    // The HTTP intake's group commit: requests read together share one transaction, and are
    // answered (and handed to the executor) only after the flush that made them durable, which
    // runs on another thread while more requests gather for the next commit.
    void groupedIntakeAnswersAfterTheFlush()
    {
        QVERIFY(start([](Config &c) { c.startPaused = true; }));
        QList<Result<RecordResult>> answers;
        for (int i = 0; i < 5; ++i) {
            IntakeRequest in;
            in.body = mutation(QStringLiteral("g%1").arg(i), QStringLiteral("g%1.txt").arg(i));
            QVERIFY(m_engine
                        ->intakeGrouped(
                            in, [&answers](const Result<RecordResult> &r) { answers.append(r); })
                        .ok());
        }
        QVERIFY(answers.isEmpty()); // nothing is answered before it is committed and flushed
        QTRY_COMPARE(answers.size(), 5);
        QStringList ids;
        for (const Result<RecordResult> &r : answers) {
            QVERIFY2(r.ok(), qPrintable(r.error().message));
            ids.append(r->delivery.patchId);
            QCOMPARE(statusOf(r->delivery.id), QString("queued"));
        }
        QCOMPARE(ids, (QStringList{"g0", "g1", "g2", "g3", "g4"}));
        QCOMPARE(m_engine->queueLength(), 5);
        const QByteArray m = m_engine->renderMetrics();
        QVERIFY(m.contains("\nghost_runner_intake_committed_requests_total 5\n"));
        QVERIFY(m.contains("\nghost_runner_intake_commits_total 1\n"));
        QVERIFY(m.contains("ghost_runner_intake_syncs_total{result=\"ok\"} 1\n"));
        // The executor takes them once durable, in order.
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        m_engine->setPaused(false);
        QTRY_COMPARE(finished.size(), 5);
        QCOMPARE(finished.first().at(1).toString(), QString("g0"));
        QCOMPARE(finished.last().at(1).toString(), QString("g4"));
    }

    // A flush the disk refuses: no request is acknowledged, none stays in the journal, and
    // none is applied; the next one, with the disk back, goes through.
    void aFailedFlushAcknowledgesAndKeepsNothing()
    {
        QVERIFY(start());
        qputenv("GHOST_RUNNER_FAIL_AT", "journal-sync");
        QList<Result<RecordResult>> answers;
        for (int i = 0; i < 3; ++i) {
            IntakeRequest in;
            in.body = mutation(QStringLiteral("lost%1").arg(i), QStringLiteral("l%1.txt").arg(i));
            QVERIFY(m_engine
                        ->intakeGrouped(
                            in, [&answers](const Result<RecordResult> &r) { answers.append(r); })
                        .ok());
        }
        QTRY_COMPARE(answers.size(), 3);
        qunsetenv("GHOST_RUNNER_FAIL_AT");
        for (const Result<RecordResult> &r : answers) {
            QVERIFY(!r.ok());
            QCOMPARE(r.error().code, QString("journal_failed"));
            QVERIFY2(r.error().message.contains("send it again"), qPrintable(r.error().message));
            // The disk's reason is in the answer, so that the operator knows what to fix.
            QVERIFY2(r.error().message.contains("fault injected at journal-sync"),
                     qPrintable(r.error().message));
        }
        QVERIFY(m_engine->journal()->countsByStatus().isEmpty());
        QCOMPARE(m_engine->queueLength(), 0);
        QVERIFY(m_engine->renderMetrics().contains(
            "ghost_runner_intake_syncs_total{result=\"failed\"} 1\n"));
        QCOMPARE(jsonAt(healthJson(), "components/journal/status").toString(), QString("failing"));
        QVERIFY(jsonAt(healthJson(), "components/journal/message")
                    .toString()
                    .contains("cannot flush the journal"));

        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        IntakeRequest again;
        again.body = mutation("lost0", "l0.txt");
        Result<RecordResult> answer = makeError("unanswered", "");
        QVERIFY(
            m_engine->intakeGrouped(again, [&answer](const Result<RecordResult> &r) { answer = r; })
                .ok());
        QTRY_VERIFY(answer.ok());
        QVERIFY(!answer->duplicate);
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(statusOf(answer->delivery.id), QString("applied"));
        QVERIFY(!QFile::exists(path("ws/l1.txt")));
        QVERIFY(!QFile::exists(path("ws/l2.txt")));
        QCOMPARE(TestSupport::readFile(path("ws/l0.txt")), QByteArray("x"));
        QCOMPARE(jsonAt(healthJson(), "components/journal/status").toString(), QString("ok"));
    }

    // intake() (replays, the tray) keeps its order behind grouped requests still waiting.
    void directIntakeSettlesGroupedRequestsFirst()
    {
        QVERIFY(start([](Config &c) { c.startPaused = true; }));
        QList<Result<RecordResult>> answers;
        IntakeRequest first;
        first.body = mutation("first", "f.txt");
        QVERIFY(m_engine
                    ->intakeGrouped(
                        first, [&answers](const Result<RecordResult> &r) { answers.append(r); })
                    .ok());
        const Delivery second = send(mutation("second", "s.txt"));
        QCOMPARE(answers.size(), 1); // answered before intake() returned
        QVERIFY(answers.first().ok());
        QVERIFY(answers.first()->delivery.seq < second.seq);
        QTest::qWait(0); // a stale flush result arriving now changes nothing
        QCOMPARE(answers.size(), 1);
        QCOMPARE(m_engine->queueLength(), 2);
    }

    void stopFinishesTheDeliveryInProgress()
    {
        QVERIFY(start());
        const Delivery d = send(mutation("in-flight"));
        QVERIFY(m_engine->dispatcher()->isBusy()); // handed to the worker, not finished
        m_engine->stop();
        QCOMPARE(statusOf(d.id), QString("applied"));
        QCOMPARE(logLinesFor(m_engine->confirmationLog()->path(), d.id), 1);
        QCOMPARE(TestSupport::readFile(path("ws/a.txt")), QByteArray("x"));
    }

    void restartKeepsTheJournal()
    {
        QVERIFY(start());
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        const Delivery d = send(mutation("kept"));
        QVERIFY(finished.wait(3000));
        m_engine.reset();
        QVERIFY(start());
        QCOMPARE(statusOf(d.id), QString("applied"));
        IntakeRequest in;
        in.body = mutation("kept");
        const Result<RecordResult> again = m_engine->intake(in);
        QVERIFY(again.ok());
        QVERIFY(again->duplicate);
        QCOMPARE(again->delivery.id, d.id);
        in.body = mutation("kept", "a.txt", "other");
        QCOMPARE(m_engine->intake(in).error().code, QString("conflict"));
    }

    void recoveryAfterACrash_data()
    {
        QTest::addColumn<QString>("leftAs");  // the status the crash left in the journal
        QTest::addColumn<bool>("logged");     // the confirmation line was already written
        QTest::addColumn<bool>("appliedNow"); // recovery runs the patch (again)
        QTest::addColumn<QString>("event");   // in the timeline after recovery
        QTest::newRow("queued, never started") << "queued" << false << true << QString();
        QTest::newRow("crashed while applying") << "applying" << false << true << "resumed";
        QTest::newRow("crashed after the log line") << "applying" << true << false << QString();
    }
    void recoveryAfterACrash()
    {
        QFETCH(QString, leftAs);
        QFETCH(bool, logged);
        QFETCH(bool, appliedNow);
        QFETCH(QString, event);
        QString id;
        {
            // What a process killed at that moment leaves behind.
            QVERIFY(QDir().mkpath(path("state/logs")));
            DeliveryJournal journal;
            QVERIFY(journal.open(path("state/journal.sqlite")).ok());
            RecordRequest r;
            r.patchId = "crashed";
            r.bodyHash = "h";
            r.format = "mutations";
            r.body = mutation("crashed", "a.txt", "recovered");
            const Result<RecordResult> rec = journal.record(r);
            QVERIFY(rec.ok());
            id = rec->delivery.id;
            if (leftAs != "queued")
                QVERIFY(journal.setStatus(id, leftAs, leftAs).ok());
            if (logged) {
                ConfirmationLog log;
                QVERIFY(log.open(path("state/logs/delivery-confirmation.log")).ok());
                Outcome o;
                o.status = "applied";
                o.format = "mutations";
                o.files = QJsonArray{QJsonObject{{"path", "a.txt"}, {"action", "added"}}};
                QVERIFY(log.append(id, "crashed", o).ok());
            }
        }
        QVERIFY(start());
        const QString log = m_engine->confirmationLog()->path();
        if (appliedNow) {
            QTRY_COMPARE_WITH_TIMEOUT(statusOf(id), QString("applied"), 3000);
            QCOMPARE(TestSupport::readFile(path("ws/a.txt")), QByteArray("recovered"));
        } else {
            // Settled from the log line before anything runs: not applied a second time.
            QCOMPARE(statusOf(id), QString("applied"));
            QVERIFY(!QFile::exists(path("ws/a.txt")));
        }
        QCOMPARE(logLinesFor(log, id), 1);
        const Delivery d = m_engine->journal()->find(id, true).value();
        QCOMPARE(d.outcome.files.size(), 1);
        if (!event.isEmpty())
            QVERIFY2(states(d).contains(event), qPrintable(states(d).join(',')));
        QCOMPARE(m_engine->journal()->pendingCount(), qint64(0));
        QCOMPARE(m_engine->health().overall(), Health::Ok);
    }

    void aReadableCopyThatCannotBeWrittenShowsInHealth()
    {
        QVERIFY(start());
        // STATE/patches replaced by a file: the copies fail; the journal still has every body.
        QVERIFY(QDir(path("state/patches")).removeRecursively());
        TestSupport::writeFile(path("state/patches"), "not a directory");
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        const Delivery d = send(mutation("p1"));
        m_engine->flushArchive();
        const QJsonObject h = healthJson();
        QCOMPARE(jsonAt(h, "components/journal/status").toString(), QString("degraded"));
        QVERIFY(jsonAt(h, "components/journal/message").toString().contains("readable copies"));
        QCOMPARE(m_engine->journal()->body(d.id), mutation("p1"));
        QVERIFY(finished.wait(3000));
        QCOMPARE(statusOf(d.id), QString("applied"));
    }

    void healthComponents()
    {
        QVERIFY(start([](Config &c) { c.maxQueue = 1; }));
        QSignalSpy changes(m_engine.get(), &Engine::healthChanged);
        // Paused: degraded, and the change is announced once.
        m_engine->setPaused(true);
        QVERIFY(m_engine->isPaused());
        QCOMPARE(m_engine->health().overall(), Health::Degraded);
        QCOMPARE(changes.size(), 1);
        QCOMPARE(changes.first().at(0).value<Health>(), Health::Degraded);
        QCOMPARE(changes.first().at(1).value<Health>(), Health::Ok);
        QJsonObject h = healthJson();
        QCOMPARE(jsonAt(h, "components/executor/status").toString(), QString("degraded"));
        QCOMPARE(jsonAt(h, "components/executor/paused").toBool(), true);
        QVERIFY(jsonAt(h, "components/executor/message").toString().contains("paused"));
        // A full queue: the journal says so.
        const Delivery held = send(mutation("held"));
        h = healthJson();
        QCOMPARE(jsonAt(h, "components/journal/pending").toInt(), 1);
        QCOMPARE(jsonAt(h, "components/journal/status").toString(), QString("degraded"));
        QVERIFY(jsonAt(h, "components/journal/message").toString().contains("full"));
        QCOMPARE(m_engine->queueLength(), 1);
        IntakeRequest in;
        in.body = mutation("refused");
        QCOMPARE(m_engine->intake(in).error().code, QString("queue_full"));
        // Resumed and drained: ok again.
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        m_engine->setPaused(false);
        QVERIFY(finished.wait(3000));
        QCOMPARE(statusOf(held.id), QString("applied"));
        QCOMPARE(m_engine->health().overall(), Health::Ok);
        QCOMPARE(changes.last().at(0).value<Health>(), Health::Ok);
        // A failed patch is a result, not a health problem.
        send(failing("f1"));
        QVERIFY(finished.wait(3000));
        h = healthJson();
        QCOMPARE(jsonAt(h, "components/executor/last_result").toString(), QString("failed"));
        QCOMPARE(h["status"].toString(), QString("ok"));
        // The workspace gone: failing, with the reason.
        QVERIFY(QDir(path("ws")).removeRecursively());
        h = healthJson();
        QCOMPARE(h["status"].toString(), QString("failing"));
        QCOMPARE(jsonAt(h, "components/executor/writable").toBool(), false);
        QVERIFY(h["problems"].toArray().first().toString().startsWith("executor: "));
    }

    void metricsGauges()
    {
        QVERIFY(start());
        QByteArray m = m_engine->renderMetrics();
        QVERIFY(m.contains("ghost_runner_build_info{version=\"" GR_VERSION
                           "\",role=\"all-in-one\"} 1\n"));
        QVERIFY(m.contains("\nghost_runner_health_status 0\n"));
        QVERIFY(m.contains("\nghost_runner_paused 0\n"));
        QVERIFY(m.contains("\nghost_runner_queue_depth 0\n"));
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        send(mutation("m1"));
        QVERIFY(finished.wait(3000));
        send(failing("m2"));
        QVERIFY(finished.wait(3000));
        m_engine->setPaused(true);
        send(mutation("m3", "b.txt"));
        m = m_engine->renderMetrics();
        QVERIFY(m.contains("ghost_runner_deliveries_total{status=\"applied\"} 1\n"));
        QVERIFY(m.contains("ghost_runner_deliveries_total{status=\"failed\"} 1\n"));
        QVERIFY(m.contains("ghost_runner_journal_deliveries{status=\"applied\"} 1\n"));
        QVERIFY(m.contains("ghost_runner_journal_deliveries{status=\"failed\"} 1\n"));
        QVERIFY(m.contains("ghost_runner_journal_deliveries{status=\"queued\"} 1\n"));
        QVERIFY(m.contains("\nghost_runner_queue_depth 1\n"));
        QVERIFY(m.contains("\nghost_runner_paused 1\n"));
        QVERIFY(m.contains("\nghost_runner_health_status 1\n"));
        // Every sample belongs to a family announced with # TYPE before it.
        QSet<QByteArray> typed;
        for (const QByteArray &line : m.split('\n')) {
            if (line.startsWith("# TYPE "))
                typed.insert(line.split(' ').value(2));
            else if (!line.isEmpty() && !line.startsWith('#')) {
                QByteArray name = line.left(line.indexOf(line.contains('{') ? '{' : ' '));
                for (const char *suffix : {"_bucket", "_sum", "_count"}) {
                    if (name.endsWith(suffix) && !typed.contains(name))
                        name.chop(int(qstrlen(suffix)));
                }
                QVERIFY2(typed.contains(name), line.constData());
            }
        }
    }

    void reloadRefusalsKeepTheRunningEngine_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("says");
        QTest::newRow("state dir") << "state"
                                   << "reload_refused"
                                   << "paths.state_dir changed";
        QTest::newRow("role") << "role"
                              << "reload_refused"
                              << "server.role changed";
        QTest::newRow("missing workspace") << "workspace"
                                           << "workspace_missing"
                                           << "missing";
        QTest::newRow("port in use") << "port"
                                     << "listen_failed"
                                     << "address in use";
    }
    void reloadRefusalsKeepTheRunningEngine()
    {
        QFETCH(QString, change);
        QFETCH(QString, code);
        QFETCH(QString, says);
        if (m_sharedBy != QTest::currentTestFunction())
            QVERIFY(start());
        const QString address = m_engine->listeningAddress();
        QTcpServer squatter;
        QSignalSpy changed(m_engine.get(), &Engine::configChanged);
        Config next = m_engine->config();
        next.maxWaitS = 7; // would be applied along with the change, if it were accepted
        if (change == "state")
            next.stateDir = path("other-state");
        else if (change == "role")
            next.role = "runner";
        else if (change == "workspace")
            next.workspace = path("missing");
        else if (change == "port") {
            QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
            next.port = squatter.serverPort();
        }
        const Status s = m_engine->reload(next);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, code);
        QVERIFY2(s.error().message.contains(says), qPrintable(s.error().message));
        QCOMPARE(changed.size(), 0);
        QCOMPARE(m_engine->config().maxWaitS, 60);
        QCOMPARE(m_engine->config().workspace, path("ws"));
        QCOMPARE(m_engine->listeningAddress(), address);
        QVERIFY(accepts(m_engine->port()));
        QVERIFY(!QDir(path("other-state")).exists());
        // Still working as before.
        QSignalSpy finished(m_engine.get(), &Engine::deliveryFinished);
        const QString tag = QString::fromLatin1(QTest::currentDataTag());
        send(mutation("after refused " + tag, "row.txt", tag));
        QVERIFY(finished.wait(3000));
        QCOMPARE(TestSupport::readFile(path("ws/row.txt")), tag.toUtf8());
        m_sharedBy = QTest::currentTestFunction();
    }

    void reloadRefusedWhileApplying()
    {
        QVERIFY(start());
        QVERIFY(QDir().mkpath(path("ws2")));
        const Delivery d = send(mutation("busy"));
        QVERIFY(m_engine->dispatcher()->isBusy());
        Config next = m_engine->config();
        next.workspace = path("ws2");
        const Status s = m_engine->reload(next);
        QCOMPARE(s.error().code, QString("reload_refused"));
        QTRY_COMPARE_WITH_TIMEOUT(statusOf(d.id), QString("applied"), 3000);
        QCOMPARE(TestSupport::readFile(path("ws/a.txt")), QByteArray("x"));
        // Once idle, the same reload goes through.
        QTRY_VERIFY_WITH_TIMEOUT(!m_engine->dispatcher()->isBusy(), 3000);
        QVERIFY(m_engine->reload(next).ok());
    }

    void reloadAppliesWithoutRestart()
    {
        QVERIFY(start());
        QVERIFY(QDir().mkpath(path("ws2")));
        const quint16 oldPort = m_engine->port();
        const quint16 newPort = freePort();
        QSignalSpy changed(m_engine.get(), &Engine::configChanged);
        // A request the HTTP layer refuses, counted before the reload binds a new server.
        QVERIFY(httpRequest("POST", "http://127.0.0.1:" + QString::number(oldPort) + "/webhook",
                            "{}", {{"Transfer-Encoding", "gzip"}})
                    .status >= 400);
        const QByteArray refused =
            "ghost_runner_rejected_requests_total{reason=\"malformed_request\"} 1\n";
        QVERIFY(m_engine->renderMetrics().contains(refused));
        Config next = m_engine->config();
        next.workspace = path("ws2");
        next.port = newPort;
        next.readAccess = "token";
        next.secret = "s3cret";
        const Status s = m_engine->reload(next);
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QCOMPARE(changed.size(), 1);
        QCOMPARE(m_engine->port(), newPort);
        QVERIFY2(m_engine->renderMetrics().contains(refused),
                 "the counter survives the new server");
        QCOMPARE(m_engine->listeningAddress(), "127.0.0.1:" + QString::number(newPort));
        QVERIFY(!accepts(oldPort));
        QCOMPARE(jsonAt(healthJson(), "components/executor/workspace").toString(),
                 QFileInfo(path("ws2")).canonicalFilePath());
        // The new settings are in force over HTTP at once.
        const QString base = "http://" + m_engine->listeningAddress();
        QCOMPARE(httpGet(base + "/health").status, 401);
        QCOMPARE(
            httpRequest("GET", base + "/health", {}, {{"Authorization", "Bearer s3cret"}}).status,
            200);
        const HttpReply r =
            httpRequest("POST", base + "/webhook?wait=5", mutation("moved"),
                        {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(TestSupport::readFile(path("ws2/a.txt")), QByteArray("x"));
        QVERIFY(!QFile::exists(path("ws/a.txt")));
    }
};

QTEST_GUILESS_MAIN(tst_Engine)
#include "tst_engine.moc"
