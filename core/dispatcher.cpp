#include "dispatcher.h"

#include <QEventLoop>
#include <QLoggingCategory>
#include <QPointer>
#include <limits>

Q_LOGGING_CATEGORY(lcDispatch, "ghostrunner.dispatch")

Dispatcher::Dispatcher(DeliveryJournal *journal, ConfirmationLog *log, DeliverySink *sink,
                       QObject *parent)
    : QObject(parent), m_journal(journal), m_log(log), m_sink(sink)
{
    m_logRetry.setSingleShot(true);
    m_logWriter.setMaxThreadCount(1);
    m_logWriter.setExpiryTimeout(-1);
}

Status Dispatcher::recover()
{
    // A crash after the log line but before the journal caught up: the line is the truth. Lines
    // are appended in the order deliveries finish, and the journal's state changes commit in
    // that same order (a power loss can take back only the newest of them, see
    // DeliveryJournal), so the log is read from its end back to the first line whose delivery
    // the journal already shows as finished.
    Status failed;
    m_log->scanBackwards([&](const QJsonObject &line) {
        const QString id = line.value(QLatin1String("delivery")).toString();
        const Result<Delivery> d = m_journal->find(id, false);
        if (!d.ok())
            return true; // not in this journal
        if (d->isFinal())
            return false;
        const Outcome o = Outcome::fromJson(line);
        qCInfo(lcDispatch, "delivery %s: recovered outcome %s from the confirmation log",
               qPrintable(id), qPrintable(o.status));
        failed = m_journal->finish(id, o);
        return failed.ok();
    });
    if (!failed.ok())
        return failed;
    m_sink->recover([this](const QString &id) {
        const Result<Delivery> d = m_journal->find(id, false);
        return d.ok() && d->isFinal();
    });
    const Result<QList<Delivery>> interrupted = m_journal->inProgress();
    if (!interrupted.ok())
        return interrupted.error();
    for (const Delivery &d : *interrupted) {
        qCInfo(lcDispatch, "delivery %s: resuming after a restart", qPrintable(d.id));
        if (Status s = m_journal->setStatus(d.id, "queued", "resumed"); !s.ok())
            return s;
    }
    m_queue.clear();
    m_readUpTo = 0;
    m_more = true; // the first page is read when the first delivery is taken
    return {};
}

qint64 Dispatcher::startableUpTo() const
{
    return m_sink->canWithdraw() ? std::numeric_limits<qint64>::max() : m_journal->durableSeq();
}

bool Dispatcher::takeNext(DeliveryJournal::QueuedRef *next)
{
    const qint64 upTo = startableUpTo();
    if (m_queue.isEmpty() && m_more) {
        const auto page = m_journal->queuedAfter(m_readUpTo, kPage, upTo);
        if (!page.ok()) {
            qCCritical(lcDispatch, "cannot read the queue: %s", qPrintable(page.error().message));
            return false;
        }
        for (const auto &ref : *page)
            m_queue.enqueue(ref);
        if (!page->isEmpty())
            m_readUpTo = page->last().seq;
        // A full page, or deliveries enqueued past what may start yet: more to read later.
        m_more = page->size() == kPage || m_enqueuedUpTo > m_readUpTo;
    }
    if (m_queue.isEmpty() || m_queue.head().seq > upTo)
        return false;
    *next = m_queue.dequeue();
    return true;
}

void Dispatcher::start()
{
    m_started = true;
    pump();
}

void Dispatcher::enqueue(const Delivery &delivery)
{
    m_enqueuedUpTo = qMax(m_enqueuedUpTo, delivery.seq);
    // Past a page, or behind deliveries still in the journal, it waits there for its turn.
    if (m_more || m_queue.size() >= kPage) {
        m_more = true;
    } else {
        m_queue.enqueue({delivery.seq, delivery.id, delivery.patchId});
        m_readUpTo = delivery.seq;
    }
    emit deliveryChanged(delivery.id, delivery.patchId, delivery.status);
    pump();
}

void Dispatcher::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    emit pausedChanged(paused);
    if (!paused)
        pump();
}

void Dispatcher::pump()
{
    DeliveryJournal::QueuedRef item;
    if (!m_started || m_paused || m_draining || isBusy() || !takeNext(&item)) {
        if (!isBusy() && (m_paused || (m_queue.isEmpty() && !m_more)))
            emit idle();
        return;
    }
    m_current = item.id;
    m_currentSeq = item.seq;
    const QString active = m_sink->activeStatus();
    if (Status s = m_journal->setStatus(item.id, active, active); !s.ok())
        qCCritical(lcDispatch, "delivery %s: %s", qPrintable(item.id),
                   qPrintable(s.error().message));
    emit deliveryChanged(item.id, item.patchId, active);
    const Result<Delivery> delivery = m_journal->find(item.id, false);
    const QByteArray body = m_journal->body(item.id);
    if (!delivery.ok()) {
        onDone(item.id, item.patchId, Outcome::failure("failed", QString(), delivery.error()));
        return;
    }
    qCInfo(lcDispatch, "delivery %s: %s patch %s", qPrintable(item.id), qPrintable(active),
           qPrintable(item.patchId));
    const QString id = item.id;
    m_sink->deliver(
        *delivery, body,
        [this, id](const QString &state, const QJsonObject &detail) {
            if (Status s = m_journal->addEvent(id, state, detail); !s.ok())
                qCWarning(lcDispatch, "delivery %s: %s", qPrintable(id),
                          qPrintable(s.error().message));
        },
        [this, id, patchId = item.patchId](const Outcome &o) { onDone(id, patchId, o); });
}

void Dispatcher::durable()
{
    if (m_parked && m_currentSeq <= m_journal->durableSeq()) {
        const Parked p = *m_parked;
        m_parked.reset();
        onDone(m_current, p.patchId, p.outcome);
        return;
    }
    pump();
}

void Dispatcher::withdraw(const QList<qint64> &seqs)
{
    QQueue<DeliveryJournal::QueuedRef> kept;
    for (const auto &ref : std::as_const(m_queue)) {
        if (!seqs.contains(ref.seq))
            kept.enqueue(ref);
    }
    m_queue.swap(kept);
    if (!isBusy() || !seqs.contains(m_currentSeq))
        return;
    qCWarning(lcDispatch, "delivery %s: its intake did not reach the disk; undoing it",
              qPrintable(m_current));
    if (!m_parked) {
        m_withdrawCurrent = true; // still with the sink: undone when it is done
        return;
    }
    m_parked.reset();
    undoCurrent();
}

void Dispatcher::undoCurrent()
{
    m_withdrawCurrent = false;
    m_sink->withdrawn(m_current);
    m_current.clear();
    pump();
}

void Dispatcher::onDone(const QString &id, const QString &patchId, const Outcome &outcome)
{
    if (m_withdrawCurrent) {
        undoCurrent();
        return;
    }
    // Started before its intake was on disk: nobody hears of it until it is.
    if (m_currentSeq > m_journal->durableSeq()) {
        m_parked = Parked{patchId, outcome};
        return;
    }
    // The confirmation line comes first; until it is on disk nobody hears of the outcome. It is
    // written and fsynced on a thread of its own, so the intake (this thread) goes on meanwhile;
    // the delivery stays current (isBusy) until it is settled, so lines keep their order.
    QPointer<Dispatcher> self(this);
    ConfirmationLog *log = m_log;
    DeliverySink *sink = m_sink;
    m_logWriter.start([self, log, sink, id, patchId, outcome] {
        const Status appended = log->append(id, patchId, outcome);
        if (appended.ok())
            sink->confirmed(id, outcome); // permanent before anyone hears of it
        if (self)
            QMetaObject::invokeMethod(
                self.data(),
                [self, id, patchId, outcome, appended] {
                    if (self)
                        self->onLogged(id, patchId, outcome, appended);
                },
                Qt::QueuedConnection);
    });
}

void Dispatcher::onLogged(const QString &id, const QString &patchId, const Outcome &outcome,
                          const Status &appended)
{
    if (!appended.ok()) {
        m_logError = appended.error().message;
        qCCritical(lcDispatch, "delivery %s: %s; retrying in 2 s", qPrintable(id),
                   qPrintable(m_logError));
        m_logRetry.disconnect();
        connect(&m_logRetry, &QTimer::timeout, this,
                [this, id, patchId, outcome] { onDone(id, patchId, outcome); });
        m_logRetry.start(2000);
        return;
    }
    m_logError.clear();
    settle(id, patchId, outcome);
}

void Dispatcher::settle(const QString &id, const QString &patchId, const Outcome &outcome)
{
    if (Status s = m_journal->finish(id, outcome); !s.ok())
        qCCritical(lcDispatch, "delivery %s: %s", qPrintable(id), qPrintable(s.error().message));
    m_lastResult = outcome.status;
    m_current.clear();
    if (outcome.error.isNull())
        qCInfo(lcDispatch, "delivery %s: %s (%.1f ms)", qPrintable(id), qPrintable(outcome.status),
               outcome.durationMs);
    else
        qCWarning(lcDispatch, "delivery %s: %s: %s", qPrintable(id), qPrintable(outcome.status),
                  qPrintable(outcome.error.message));
    emit deliveryChanged(id, patchId, outcome.status);
    emit deliveryFinished(id, patchId, outcome);
    pump();
}

void Dispatcher::drain(int timeoutMs)
{
    m_draining = true;
    if (!isBusy())
        return;
    if (m_sink->abandon()) {
        m_current.clear();
        return;
    }
    QEventLoop loop;
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    connect(this, &Dispatcher::deliveryFinished, &loop, &QEventLoop::quit);
    loop.exec();
}
