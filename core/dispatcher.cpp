#include "dispatcher.h"

#include <QEventLoop>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcDispatch, "ghostrunner.dispatch")

Dispatcher::Dispatcher(DeliveryJournal *journal, ConfirmationLog *log, DeliverySink *sink,
                       QObject *parent)
    : QObject(parent), m_journal(journal), m_log(log), m_sink(sink)
{
    m_logRetry.setSingleShot(true);
}

Status Dispatcher::recover()
{
    const Result<QList<Delivery>> pending = m_journal->pending();
    if (!pending.ok())
        return pending.error();
    // A crash after the log line but before the journal: the line is the truth.
    for (const Delivery &d : *pending) {
        if (d.status == QLatin1String("queued"))
            continue;
        if (const auto line = m_log->find(d.id)) {
            const Outcome o = Outcome::fromJson(*line);
            qCInfo(lcDispatch, "delivery %s: recovered outcome %s from the confirmation log",
                   qPrintable(d.id), qPrintable(o.status));
            if (Status s = m_journal->finish(d.id, o); !s.ok())
                return s;
        }
    }
    m_sink->recover([this](const QString &id) {
        const Result<Delivery> d = m_journal->find(id, false);
        return d.ok() && d->isFinal();
    });
    const Result<QList<Delivery>> still = m_journal->pending();
    if (!still.ok())
        return still.error();
    for (const Delivery &d : *still) {
        if (d.status != QLatin1String("queued")) {
            qCInfo(lcDispatch, "delivery %s: resuming after a restart", qPrintable(d.id));
            if (Status s = m_journal->setStatus(d.id, "queued", "resumed"); !s.ok())
                return s;
        }
        m_queue.enqueue({d.id, d.patchId});
    }
    return {};
}

void Dispatcher::start()
{
    m_started = true;
    pump();
}

void Dispatcher::enqueue(const Delivery &delivery)
{
    m_queue.enqueue({delivery.id, delivery.patchId});
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
    if (!m_started || m_paused || m_draining || isBusy() || m_queue.isEmpty()) {
        if (!isBusy() && (m_queue.isEmpty() || m_paused))
            emit idle();
        return;
    }
    const Item item = m_queue.dequeue();
    m_current = item.id;
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

void Dispatcher::onDone(const QString &id, const QString &patchId, const Outcome &outcome)
{
    // The confirmation line comes first; until it is on disk nobody hears of the outcome.
    if (Status s = m_log->append(id, patchId, outcome); !s.ok()) {
        m_logError = s.error().message;
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
    m_sink->confirmed(id, outcome);
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
