#pragma once
// Hands journaled deliveries to the sink one at a time, in order of receipt; writes each
// outcome to the confirmation log first, then the journal, then tells everyone. Resumes
// unfinished deliveries after a crash, and can be paused (intake keeps journaling). It holds
// at most one page of the queue in memory; a longer backlog is read from the journal as the
// queue drains, so memory stays flat whatever the backlog.

#include "confirmationlog.h"
#include "deliveryjournal.h"
#include "deliverysink.h"

#include <QObject>
#include <QQueue>
#include <QThreadPool>
#include <QTimer>
#include <optional>

class Dispatcher final : public QObject
{
    Q_OBJECT
public:
    Dispatcher(DeliveryJournal *journal, ConfirmationLog *log, DeliverySink *sink,
               QObject *parent = nullptr);

    // Settles what a crash interrupted and queues every unfinished delivery. Call once.
    Status recover();
    void start();
    // A delivery committed to the journal. Its intake may still be on its way to the disk: a
    // sink that can withdraw starts on it at once, and only its confirmation line waits for
    // durable(); other sinks wait for durable() before they start.
    void enqueue(const Delivery &delivery);
    // The journal's durableSeq() moved on: confirm and start what waited for it.
    void durable();
    // These deliveries' intake never reached the disk (the journal has taken them back): drop
    // them, and have the sink undo the one in progress.
    void withdraw(const QList<qint64> &seqs);
    // Swaps where deliveries go (configuration reload); only while not busy.
    void setSink(DeliverySink *sink) { m_sink = sink; }
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    bool isBusy() const { return !m_current.isEmpty(); }
    // Unfinished deliveries, the one in progress included.
    int queueLength() const { return int(qMax<qint64>(0, m_journal->pendingCount())); }
    static constexpr int kPage = 256;
    QString currentDelivery() const { return m_current; }
    QString lastResult() const { return m_lastResult; }
    QString logError() const { return m_logError; }
    // Stops taking new deliveries and waits (running the event loop) for the current one.
    void drain(int timeoutMs);

signals:
    void deliveryChanged(const QString &id, const QString &patchId, const QString &status);
    void deliveryFinished(const QString &id, const QString &patchId, const Outcome &outcome);
    void pausedChanged(bool paused);
    void idle();

private:
    void pump();
    // The next delivery to hand over, reading the next page from the journal when needed.
    bool takeNext(DeliveryJournal::QueuedRef *next);
    void onDone(const QString &id, const QString &patchId, const Outcome &outcome);
    void onLogged(const QString &id, const QString &patchId, const Outcome &outcome,
                  const Status &appended);
    void settle(const QString &id, const QString &patchId, const Outcome &outcome);
    // The sink undoes the current delivery (withdrawn), and the next one starts.
    void undoCurrent();
    // The highest seq the sink may start on now.
    qint64 startableUpTo() const;
    struct Parked
    {
        QString patchId;
        Outcome outcome;
    };

    DeliveryJournal *m_journal;
    ConfirmationLog *m_log;
    DeliverySink *m_sink;
    QQueue<DeliveryJournal::QueuedRef> m_queue; // the next deliveries, in order
    qint64 m_readUpTo = 0; // the highest seq in (or already taken from) m_queue
    bool m_more = false;   // queued deliveries after m_readUpTo wait in the journal
    QString m_current;
    qint64 m_currentSeq = 0;
    qint64 m_enqueuedUpTo = 0;      // the highest seq enqueue() was told of
    std::optional<Parked> m_parked; // the current outcome, waiting for its intake's flush
    bool m_withdrawCurrent = false; // the current delivery was taken back while it ran
    bool m_paused = false;
    bool m_started = false;
    bool m_draining = false;
    QString m_lastResult;
    QString m_logError;
    QTimer m_logRetry;
    QThreadPool m_logWriter; // one thread: the confirmation line's write and fsync
};
