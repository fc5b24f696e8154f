#include "engine.h"

#include "applyworker.h"
#include "dispatcher.h"
#include "envelope.h"
#include "eventstream.h"
#include "forwarder.h"
#include "httpserver.h"
#include "memoryrelease.h"
#include "patcharchive.h"
#include "webhookserver.h"
#include "workspace.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcEngine, "ghostrunner.engine")

Forwarder::Settings Engine::forwarderSettings(const Config &c)
{
    Forwarder::Settings s;
    s.runnerUrl = c.runnerUrl;
    s.secret = c.secret;
    s.retry.initialMs = c.backoffInitialMs;
    s.retry.maxMs = c.backoffMaxMs;
    s.retry.maxAttempts = c.maxAttempts;
    s.retry.maxAgeMs = qint64(c.maxAgeS) * 1000;
    s.connectTimeoutMs = c.connectTimeoutS * 1000;
    s.requestTimeoutMs = c.forwardTimeoutS * 1000;
    s.waitSeconds = qMax(1, qMin(20, c.forwardTimeoutS - 1));
    s.failingAgeMs = qint64(c.failingAgeS) * 1000;
    return s;
}

namespace {
HttpLimits httpLimits(const Config &c)
{
    HttpLimits limits;
    limits.maxBodyBytes = c.maxBodyBytes;
    limits.maxHeaderBytes = c.maxHeaderBytes;
    limits.maxHeaderCount = c.maxHeaderCount;
    limits.idleTimeoutMs = c.idleTimeoutS * 1000;
    limits.requestTimeoutMs = c.requestTimeoutS * 1000;
    limits.maxConnections = c.maxConnections;
    return limits;
}
} // namespace

Engine::Engine(Config config, QObject *parent) : QObject(parent), m_config(std::move(config))
{
    m_uptime.start();
    // After a burst, SQLite keeps its page cache full and glibc the freed memory of every
    // thread's arena; handing both back when the intake goes quiet keeps the daemon's footprint
    // flat however many deliveries it has taken (their bodies live in the journal, not here).
    m_trimTimer.setSingleShot(true);
    m_trimTimer.setInterval(1000);
    connect(&m_trimTimer, &QTimer::timeout, this, [this] {
        m_journal.releaseMemory();
        releaseFreeHeap();
    });
}

Engine::~Engine()
{
    stop();
}

Status Engine::start()
{
    const QString state = m_config.stateDir;
    for (const QString &sub :
         {QString(), QStringLiteral("/logs"), QStringLiteral("/patches"), QStringLiteral("/txn")}) {
        if (!QDir().mkpath(state + sub))
            return makeError(
                "state_dir_unwritable",
                QStringLiteral("cannot create the state directory %1").arg(state + sub));
    }
    {
        QFile probe(state + QStringLiteral("/.write-probe"));
        if (!probe.open(QIODevice::WriteOnly))
            return makeError("state_dir_unwritable",
                             QStringLiteral("state directory %1 is not writable: %2")
                                 .arg(state, probe.errorString()));
        probe.close();
        probe.remove();
    }
    if (Status s = m_journal.open(state + QStringLiteral("/journal.sqlite")); !s.ok())
        return s;
    m_archive = std::make_unique<PatchArchive>(state + QStringLiteral("/patches"), m_journal.path(),
                                               m_journal.durableSeq());
    if (Status s = m_log.open(state + QStringLiteral("/logs/delivery-confirmation.log")); !s.ok())
        return s;

    if (executesPatches()) {
        if (Status s = buildApplyWorker(m_config); !s.ok())
            return s;
    } else {
        m_forwarder = new Forwarder(forwarderSettings(m_config), &m_metrics, this);
        m_sink = m_forwarder;
        m_sinkObject = m_forwarder;
    }

    m_dispatcher = new Dispatcher(&m_journal, &m_log, m_sink, this);
    connect(m_dispatcher, &Dispatcher::deliveryChanged, this, &Engine::deliveryChanged);
    connect(m_dispatcher, &Dispatcher::deliveryFinished, this, &Engine::deliveryFinished);
    connect(m_dispatcher, &Dispatcher::deliveryFinished, this, &Engine::recheckHealth);
    connect(m_dispatcher, &Dispatcher::pausedChanged, this, &Engine::pausedChanged);
    connect(m_dispatcher, &Dispatcher::pausedChanged, this, &Engine::recheckHealth);
    m_events = new EventStream(this);
    connect(m_dispatcher, &Dispatcher::deliveryChanged, this,
            [this](const QString &id, const QString &patchId, const QString &status) {
                m_events->publish("delivery",
                                  QJsonObject{{"delivery", id},
                                              {"id", patchId},
                                              {"status", status},
                                              {"at", QDateTime::currentDateTimeUtc().toString(
                                                         Qt::ISODateWithMs)}});
            });
    connect(m_dispatcher, &Dispatcher::deliveryFinished, this,
            [this](const QString &, const QString &, const Outcome &o) {
                m_metrics.deliveryFinished(o.status, o.durationMs);
            });
    connect(this, &Engine::healthChanged, this, [this](Health now, Health before) {
        m_events->publish(
            "health", QJsonObject{{"status", HealthReport::name(now)},
                                  {"previous", HealthReport::name(before)},
                                  {"problems", QJsonArray::fromStringList(health().problems())}});
    });
    if (Status s = m_dispatcher->recover(); !s.ok())
        return s;
    m_dispatcher->setPaused(m_config.startPaused);

    m_api = new WebhookServer(this, this);
    m_http = newHttpServer();
    m_http->setLimits(httpLimits(m_config));
    if (Status s = m_http->start(QHostAddress(m_config.bind), quint16(m_config.effectivePort()));
        !s.ok())
        return s;
    m_running = true;
    m_dispatcher->start();
    m_lastHealth = health().overall();
    qCInfo(lcEngine, "engine started: role %s, %s %s, state %s", qPrintable(m_config.role),
           m_workspace ? "workspace" : "runner",
           qPrintable(m_workspace ? m_workspace->root() : m_config.runnerUrl), qPrintable(state));
    return {};
}

void Engine::stop()
{
    if (!m_running)
        return;
    m_running = false;
    if (m_http)
        m_http->stopAccepting();
    settleIntake(); // what was read is journaled and answered
    if (m_syncPool)
        m_syncPool->waitForDone();
    flushArchive();
    if (m_dispatcher)
        m_dispatcher->drain(30000);
    if (auto *worker = qobject_cast<ApplyWorker *>(m_sinkObject))
        worker->waitForIdle();
    qCInfo(lcEngine, "engine stopped");
}

void Engine::flushArchive()
{
    if (m_archive)
        m_archive->flush();
}

QString Engine::listeningAddress() const
{
    return m_http ? m_http->listeningAddress() : QString();
}

quint16 Engine::port() const
{
    return m_http ? m_http->serverPort() : 0;
}

QString Engine::webhookUrl() const
{
    return QStringLiteral("http://%1/webhook").arg(listeningAddress());
}

qint64 Engine::uptimeSeconds() const
{
    return m_uptime.elapsed() / 1000;
}

int Engine::queueLength() const
{
    return m_dispatcher ? m_dispatcher->queueLength() : 0;
}

void Engine::setPaused(bool paused)
{
    if (m_dispatcher)
        m_dispatcher->setPaused(paused);
}

bool Engine::isPaused() const
{
    return m_dispatcher && m_dispatcher->isPaused();
}

HealthReport Engine::health() const
{
    HealthReport r;
    ComponentHealth server;
    const QString listening = listeningAddress();
    server.fields.insert("listening", listening.isEmpty() ? QJsonValue() : QJsonValue(listening));
    if (listening.isEmpty()) {
        server.status = Health::Failing;
        server.message = QStringLiteral("not listening");
    }
    r.set("server", server);

    ComponentHealth journal;
    const qint64 pending = m_journal.isOpen() ? m_journal.pendingCount() : -1;
    journal.fields.insert("pending", pending < 0 ? 0 : pending);
    journal.fields.insert("path", m_journal.path());
    if (!m_journal.isOpen() || pending < 0) {
        journal.status = Health::Failing;
        journal.message =
            QStringLiteral("the journal cannot be read: %1").arg(m_journal.lastError());
    } else if (!m_journal.lastError().isEmpty()) {
        journal.status = Health::Failing;
        journal.message = m_journal.lastError();
    } else if (pending >= m_config.maxQueue) {
        journal.status = Health::Degraded;
        journal.message = QStringLiteral("the intake queue is full (%1 unfinished)").arg(pending);
    } else if (const qint64 lost = m_archive ? m_archive->failures() : 0; lost > 0) {
        journal.status = Health::Degraded;
        journal.message = QStringLiteral("%1 readable copies under %2/patches could not be "
                                         "written (the journal has every body); check the disk")
                              .arg(lost)
                              .arg(m_config.stateDir);
    }
    r.set("journal", journal);

    if (m_forwarder) {
        ComponentHealth fw =
            m_forwarder->health(qMax<qint64>(0, pending), m_journal.oldestPendingReceivedMs());
        const QString lastResult = m_dispatcher ? m_dispatcher->lastResult() : QString();
        fw.fields.insert("last_result",
                         lastResult.isEmpty() ? QJsonValue() : QJsonValue(lastResult));
        fw.fields.insert("paused", isPaused());
        if (fw.status == Health::Ok && lastResult == QLatin1String("dead")) {
            fw.status = Health::Degraded;
            fw.message =
                QStringLiteral("the last delivery went dead (the runner did not confirm "
                               "it within the retry budget); see GET /deliveries?status=dead");
        }
        if (fw.status == Health::Ok && isPaused()) {
            fw.status = Health::Degraded;
            fw.message = QStringLiteral("forwarding is paused; deliveries are journaled and wait");
        }
        r.set("forwarder", fw);
        return r;
    }

    ComponentHealth executor;
    const Status writable = m_workspace ? m_workspace->checkWritable()
                                        : Status(makeError("workspace_missing", "not started"));
    executor.fields.insert("workspace", m_workspace ? m_workspace->root() : m_config.workspace);
    executor.fields.insert("writable", writable.ok());
    const QString last = m_dispatcher ? m_dispatcher->lastResult() : QString();
    executor.fields.insert("last_result", last.isEmpty() ? QJsonValue() : QJsonValue(last));
    executor.fields.insert("paused", isPaused());
    executor.fields.insert("queue", queueLength());
    if (!writable.ok()) {
        executor.status = Health::Failing;
        executor.message = writable.error().message;
    } else if (m_dispatcher && !m_dispatcher->logError().isEmpty()) {
        executor.status = Health::Failing;
        executor.message = m_dispatcher->logError();
    } else if (isPaused()) {
        executor.status = Health::Degraded;
        executor.message = QStringLiteral("applying is paused; deliveries are journaled and wait");
    }
    r.set("executor", executor);
    return r;
}

void Engine::recheckHealth()
{
    const Health now = health().overall();
    if (now != m_lastHealth) {
        const Health before = m_lastHealth;
        m_lastHealth = now;
        emit healthChanged(now, before);
    }
}

Result<RecordRequest> Engine::prepareIntake(const IntakeRequest &request, qint64 alsoWaiting) const
{
    const Result<Envelope> envelope = Envelope::parse(request.body);
    if (!envelope.ok())
        return envelope.error();
    if (m_journal.pendingCount() + alsoWaiting >= m_config.maxQueue)
        return makeError(
            "queue_full",
            QStringLiteral("%1 deliveries are waiting; retry later").arg(m_config.maxQueue));
    RecordRequest rr;
    rr.patchId = envelope->id;
    rr.bodyHash = envelope->bodyHash;
    rr.dedupeKey = request.dedupeKey;
    rr.format = envelope->format;
    rr.body = request.body;
    rr.receivedAtMs = request.receivedAtMs;
    rr.replayOf = request.replayOf;
    rr.source = request.source;
    rr.deliveryId = request.deliveryId;
    return rr;
}

void Engine::afterRecorded(const Result<RecordResult> &recorded)
{
    if (!recorded.ok()) {
        recheckHealth();
        return;
    }
    if (recorded->duplicate)
        return;
    const Delivery &d = recorded->delivery; // already with the dispatcher
    // A readable copy beside the journal (written from it by the archive's thread); the journal
    // holds the durable one.
    m_archive->copyUpTo(d.seq);
    qCInfo(lcEngine, "delivery %s: journaled patch %s (%s)", qPrintable(d.id),
           qPrintable(d.patchId), qPrintable(d.format));
}

Result<RecordResult> Engine::intake(const IntakeRequest &request)
{
    settleIntake(); // keep the order of receipt with grouped requests already waiting
    const Result<RecordRequest> rr = prepareIntake(request, 0);
    if (!rr.ok())
        return rr.error();
    Result<RecordResult> recorded = m_journal.record(*rr);
    if (recorded.ok() && !recorded->duplicate)
        m_dispatcher->enqueue(recorded->delivery);
    afterRecorded(recorded);
    return recorded;
}

Status Engine::intakeGrouped(const IntakeRequest &request, IntakeDone done)
{
    const Result<RecordRequest> rr = prepareIntake(request, m_intakeBatch.size());
    if (!rr.ok())
        return rr.error();
    if (m_intakeBatch.isEmpty())
        QMetaObject::invokeMethod(this, &Engine::flushIntake, Qt::QueuedConnection);
    m_intakeBatch.append({*rr, std::move(done)});
    return {};
}

void Engine::flushIntake()
{
    commitIntake(false);
}

void Engine::commitIntake(bool evenIfFlushing)
{
    // While a flush is in flight, requests gather here and are committed together when it
    // ends: fewer, larger transactions write fewer pages. So everything committed is covered
    // by the next flush (settleIntake() flushes itself).
    if (m_intakeBatch.isEmpty() || (m_syncInFlight && !evenIfFlushing))
        return;
    QList<PendingIntake> batch;
    batch.swap(m_intakeBatch);
    QList<RecordRequest> requests;
    requests.reserve(batch.size());
    for (const PendingIntake &p : batch)
        requests.append(p.record);
    const QList<Result<RecordResult>> results =
        m_journal.recordBatch(requests, DeliveryJournal::Durability::SyncLater);
    m_metrics.intakeBatch(batch.size());
    for (qsizetype i = 0; i < batch.size(); ++i) {
        // The executor may start on it now; its confirmation line waits for the flush.
        if (results.at(i).ok() && !results.at(i)->duplicate)
            m_dispatcher->enqueue(results.at(i)->delivery);
        m_committed.append({results.at(i), std::move(batch[i].done)});
    }
    startSync();
}

void Engine::startSync()
{
    if (m_syncInFlight || m_committed.isEmpty())
        return;
    m_syncInFlight = true;
    const quint64 generation = ++m_syncGeneration;
    const qint64 upTo = m_journal.committedSeq();
    if (!m_syncPool) {
        m_syncPool = std::make_unique<QThreadPool>();
        m_syncPool->setMaxThreadCount(1);
        m_syncPool->setExpiryTimeout(-1);
    }
    m_syncPool->start([this, generation, upTo] {
        const Status synced = m_journal.syncWal();
        QMetaObject::invokeMethod(
            this, [this, generation, synced, upTo] { onSynced(generation, synced, upTo); },
            Qt::QueuedConnection);
    });
}

void Engine::onSynced(quint64 generation, const Status &synced, qint64 upToSeq)
{
    if (generation != m_syncGeneration || !m_syncInFlight)
        return; // settleIntake() answered these already
    m_syncInFlight = false;
    answerCommitted(synced, upToSeq);
    flushIntake(); // what arrived meanwhile
}

void Engine::settleIntake()
{
    commitIntake(true);
    if (m_committed.isEmpty())
        return;
    const Status synced = m_journal.syncWal();
    ++m_syncGeneration; // the flush in flight, if any, is answered here
    m_syncInFlight = false;
    answerCommitted(synced, m_journal.committedSeq());
}

void Engine::answerCommitted(const Status &synced, qint64 upToSeq)
{
    QList<CommittedIntake> committed;
    committed.swap(m_committed);
    m_metrics.journalSynced(synced.ok());
    m_trimTimer.start(); // once the intake has been quiet for a moment
    if (synced.ok()) {
        m_journal.markDurable(upToSeq);
        m_dispatcher->durable(); // its confirmation line may go now (on its own thread)
        for (CommittedIntake &c : committed) {
            afterRecorded(c.result);
            c.done(c.result);
        }
        return;
    }
    // The disk refused the flush: nothing committed since the last good one can be trusted to
    // survive, so none of it is acknowledged, and none of it stays applied.
    QList<qint64> taken;
    for (const CommittedIntake &c : committed) {
        if (c.result.ok() && !c.result->duplicate)
            taken.append(c.result->delivery.seq);
    }
    m_dispatcher->withdraw(taken); // the executor may have started on one: it is undone
    const Status discarded = m_journal.discard(taken);
    Error e = makeError("journal_failed",
                        QStringLiteral("cannot flush the journal in %1 to disk (%2); the delivery "
                                       "was not kept: send it again")
                            .arg(m_config.stateDir, synced.error().message));
    if (!discarded.ok())
        e.message += QStringLiteral(" (%1)").arg(discarded.error().message);
    qCCritical(lcEngine, "%s", qPrintable(e.message));
    m_journal.noteFailure(e.message);
    for (CommittedIntake &c : committed)
        c.done(c.result.ok() ? Result<RecordResult>(e) : c.result);
    recheckHealth();
}

Result<RecordResult> Engine::replay(const QString &deliveryId)
{
    const Result<Delivery> old = m_journal.find(deliveryId, false);
    if (!old.ok())
        return old.error();
    if (!old->isFinal())
        return makeError("not_finished",
                         QStringLiteral("delivery %1 is still %2; replay it once it has finished")
                             .arg(deliveryId, old->status));
    IntakeRequest r;
    r.body = m_journal.body(deliveryId);
    r.source = QStringLiteral("replay");
    r.replayOf = deliveryId;
    return intake(r);
}

QByteArray Engine::renderMetrics() const
{
    Metrics::Gauges g;
    g.uptimeS = uptimeSeconds();
    g.health = int(health().overall());
    g.paused = isPaused();
    g.journalByStatus = m_journal.countsByStatus();
    g.pending = qMax<qint64>(0, m_journal.pendingCount());
    const qint64 oldest = m_journal.oldestPendingReceivedMs();
    g.oldestPendingAgeS = oldest > 0 ? (QDateTime::currentMSecsSinceEpoch() - oldest) / 1000 : 0;
    g.openConnections = m_http ? m_http->connectionCount() : 0;
    return m_metrics.render(QStringLiteral(GR_VERSION), m_config.role, g);
}

HttpServer *Engine::newHttpServer()
{
    auto *server = new HttpServer(m_api, this);
    // Counted by the engine, so that the counters outlive a reload that binds a new server.
    connect(server, &HttpServer::requestRejected, this,
            [this](const QString &reason) { m_metrics.requestRejected(reason); });
    return server;
}

Status Engine::buildApplyWorker(const Config &c)
{
    WorkspaceOptions wsOptions;
    wsOptions.allowGit = c.allowGit;
    wsOptions.txnDir = c.stateDir + QStringLiteral("/txn");
    auto workspace = std::make_unique<Workspace>(c.workspace, wsOptions);
    if (Status s = workspace->checkWritable(); !s.ok())
        return s;
    CommandPolicy commands;
    commands.allowed = c.allowCommands;
    commands.allowList = c.commandAllowList;
    commands.timeoutMs = c.commandTimeoutS * 1000;
    auto *worker = new ApplyWorker(workspace.get(), CommandRunner(commands), this);
    if (m_sinkObject) {
        auto *old = qobject_cast<ApplyWorker *>(m_sinkObject);
        if (old)
            old->waitForIdle();
        delete m_sinkObject;
    }
    m_workspace = std::move(workspace);
    m_sink = worker;
    m_sinkObject = worker;
    if (m_dispatcher)
        m_dispatcher->setSink(worker);
    return {};
}

Status Engine::reload(const Config &next)
{
    if (!m_running)
        return makeError("not_running", "the engine is not running");
    if (next.stateDir != m_config.stateDir)
        return makeError("reload_refused", QStringLiteral("paths.state_dir changed (%1 -> %2); "
                                                          "that needs a restart")
                                               .arg(m_config.stateDir, next.stateDir));
    if (next.role != m_config.role)
        return makeError("reload_refused", QStringLiteral("server.role changed (%1 -> %2); that "
                                                          "needs a restart")
                                               .arg(m_config.role, next.role));
    const bool executorChanged =
        executesPatches() &&
        (next.workspace != m_config.workspace || next.allowCommands != m_config.allowCommands ||
         next.commandAllowList != m_config.commandAllowList ||
         next.commandTimeoutS != m_config.commandTimeoutS || next.allowGit != m_config.allowGit);
    if (executorChanged && m_dispatcher->isBusy())
        return makeError("reload_refused", "a patch is being applied; reload again in a moment");
    if (executorChanged && next.workspace != m_config.workspace) {
        if (Status s = Workspace(next.workspace).checkWritable(); !s.ok())
            return s;
    }
    const bool rebind =
        next.bind != m_config.bind || next.effectivePort() != m_config.effectivePort();
    if (rebind) {
        HttpServer *fresh = newHttpServer();
        if (Status s = fresh->start(QHostAddress(next.bind), quint16(next.effectivePort()));
            !s.ok()) {
            delete fresh;
            return s;
        }
        // The old server stops accepting; its open connections finish on their own.
        m_http->stopAccepting();
        m_http = fresh;
    }
    m_http->setLimits(httpLimits(next));
    if (executorChanged) {
        if (Status s = buildApplyWorker(next); !s.ok())
            return s;
    }
    if (m_forwarder)
        m_forwarder->setSettings(forwarderSettings(next));
    m_config = next;
    qCInfo(lcEngine, "configuration reloaded%s",
           rebind ? qPrintable(" (now listening on " + listeningAddress() + ")") : "");
    emit configChanged();
    recheckHealth();
    return {};
}
