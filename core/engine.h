#pragma once
// The composition root: builds and owns every component from a Config (journal, log,
// workspace, executor or forwarder, dispatcher, HTTP server) and hands each what it needs. No
// singletons. start() reports why it could not start as a value; both front ends (daemon, tray)
// drive the engine only through this class and its signals.

#include "config.h"
#include "confirmationlog.h"
#include "deliveryjournal.h"
#include "forwarder.h"
#include "healthreport.h"
#include "metrics.h"
#include "outcome.h"

#include <QElapsedTimer>
#include <QObject>
#include <QThreadPool>
#include <QTimer>
#include <functional>
#include <memory>

class ApplyWorker;
class DeliverySink;
class Dispatcher;
class EventStream;
class HttpServer;
class PatchArchive;
class WebhookServer;
class Workspace;

struct IntakeRequest
{
    QByteArray body;
    QString dedupeKey; // webhook-id / X-GitHub-Delivery / relay delivery id
    QString source;    // how it was authenticated
    qint64 receivedAtMs = 0;
    QString replayOf;
    QString deliveryId; // a relay's id, kept by the runner for tracing
};

class Engine final : public QObject
{
    Q_OBJECT
public:
    explicit Engine(Config config, QObject *parent = nullptr);
    ~Engine() override;

    // Opens the state directory, journal and log, checks the workspace, settles what a crash
    // left, binds the server and starts delivering. Error codes: state_dir_unwritable,
    // journal_failed, workspace_missing, workspace_not_writable, listen_failed.
    Status start();
    // Stops intake, lets the delivery in progress finish, flushes. Idempotent.
    void stop();
    // Applies a new, already validated configuration without dropping connections (SIGHUP, the
    // tray's settings). Refused, with the old one still running, when it cannot be applied:
    // a changed state directory or role, an unusable workspace, an address that cannot be bound.
    Status reload(const Config &next);

    const Config &config() const { return m_config; }
    QString listeningAddress() const;
    quint16 port() const;
    QString webhookUrl() const;
    HealthReport health() const;
    qint64 uptimeSeconds() const;
    bool isRunning() const { return m_running; }

    // Journals one envelope; the duplicate flag says it repeated an earlier one.
    Result<RecordResult> intake(const IntakeRequest &request);
    // Group commit for the HTTP intake: requests that arrive together are journaled in one
    // transaction once the event loop has read them all, and the journal is flushed to disk on
    // a thread of its own while the next requests are read and committed; one flush covers
    // every commit made before it. `done` runs once its request's commit is on disk (or with
    // journal_failed if the flush failed: the delivery is then taken back). A request refused
    // before journaling (bad envelope, queue full) returns the error at once and `done` is
    // not called.
    using IntakeDone = std::function<void(const Result<RecordResult> &)>;
    Status intakeGrouped(const IntakeRequest &request, IntakeDone done);
    // Journals a finished or dead delivery again, as a new delivery linked to it.
    Result<RecordResult> replay(const QString &deliveryId);

    void setPaused(bool paused);
    bool isPaused() const;
    int queueLength() const;

    DeliveryJournal *journal() { return &m_journal; }
    const DeliveryJournal *journal() const { return &m_journal; }
    ConfirmationLog *confirmationLog() { return &m_log; }
    Dispatcher *dispatcher() const { return m_dispatcher; }
    Workspace *workspace() const { return m_workspace.get(); }
    Forwarder *forwarder() const { return m_forwarder; }
    bool executesPatches() const { return m_config.role != QLatin1String("relay"); }
    HttpServer *httpServer() const { return m_http; }
    Metrics &metrics() { return m_metrics; }
    EventStream *events() const { return m_events; }
    // Returns once every readable copy under STATE/patches is written.
    void flushArchive();
    // The /metrics text, gauges read now.
    QByteArray renderMetrics() const;

signals:
    void deliveryChanged(const QString &id, const QString &patchId, const QString &status);
    void deliveryFinished(const QString &id, const QString &patchId, const Outcome &outcome);
    void healthChanged(Health current, Health previous);
    void pausedChanged(bool paused);
    void configChanged();

private:
    struct PendingIntake
    {
        RecordRequest record;
        IntakeDone done;
    };
    // Committed to the journal, waiting for the flush that makes it durable.
    struct CommittedIntake
    {
        Result<RecordResult> result;
        IntakeDone done;
    };
    Result<RecordRequest> prepareIntake(const IntakeRequest &request, qint64 alsoWaiting) const;
    void afterRecorded(const Result<RecordResult> &recorded);
    void flushIntake();
    // Commits the requests read so far; unless `evenIfFlushing`, not while a flush is in flight
    // (they then form the next group, committed when it ends).
    void commitIntake(bool evenIfFlushing);
    void startSync();
    HttpServer *newHttpServer();
    void onSynced(quint64 generation, const Status &synced, qint64 upToSeq);
    // Flushes on this thread and answers everything committed so far (intake(), stop()).
    void settleIntake();
    // Answers everything committed, which the flush just ended covered (or failed for):
    // `synced` says which.
    void answerCommitted(const Status &synced, qint64 upToSeq);
    void recheckHealth();
    Status buildApplyWorker(const Config &c);
    static Forwarder::Settings forwarderSettings(const Config &c);

    Config m_config;
    DeliveryJournal m_journal;
    ConfirmationLog m_log;
    std::unique_ptr<Workspace> m_workspace;
    std::unique_ptr<PatchArchive> m_archive;
    DeliverySink *m_sink = nullptr;
    Forwarder *m_forwarder = nullptr;
    QObject *m_sinkObject = nullptr;
    Dispatcher *m_dispatcher = nullptr;
    WebhookServer *m_api = nullptr;
    HttpServer *m_http = nullptr;
    Metrics m_metrics;
    EventStream *m_events = nullptr;
    QElapsedTimer m_uptime;
    QList<PendingIntake> m_intakeBatch;
    QList<CommittedIntake> m_committed; // committed, answered once flushed
    bool m_syncInFlight = false;
    quint64 m_syncGeneration = 0; // a flush answered by settleIntake() is not answered again
    std::unique_ptr<QThreadPool> m_syncPool;
    QTimer m_trimTimer;
    bool m_running = false;
    Health m_lastHealth = Health::Ok;
};
