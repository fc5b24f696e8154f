#include "applyworker.h"

#include "faultinjection.h"

#include <QLoggingCategory>
#include <QPointer>

Q_LOGGING_CATEGORY(lcApply, "ghostrunner.apply")

ApplyWorker::ApplyWorker(Workspace *workspace, CommandRunner commands, QObject *parent)
    : QObject(parent), m_executor(workspace, std::move(commands))
{
    m_pool.setMaxThreadCount(1); // patches apply strictly one at a time, in order
    m_pool.setExpiryTimeout(-1);
}

ApplyWorker::~ApplyWorker()
{
    m_pool.waitForDone();
}

void ApplyWorker::deliver(const Delivery &delivery, const QByteArray &body, Progress progress,
                          Done done)
{
    Q_UNUSED(progress);
    QPointer<ApplyWorker> self(this);
    const QString id = delivery.id;
    m_pool.start([this, self, id, body, done] {
        Outcome outcome;
        const Result<Envelope> envelope = Envelope::parse(body);
        if (!envelope.ok()) {
            outcome = Outcome::failure("rejected", QString(), envelope.error());
        } else {
            outcome = m_executor.execute(*envelope, id);
            if (outcome.applied())
                FaultInjection::crashPoint("after-commit");
        }
        QMetaObject::invokeMethod(
            this,
            [self, done, outcome] {
                if (self)
                    done(outcome);
            },
            Qt::QueuedConnection);
    });
}

void ApplyWorker::confirmed(const QString &deliveryId, const Outcome &outcome)
{
    // On the dispatcher's log thread, while this worker's own thread has nothing to do: the
    // next patch is not handed over before this one is settled.
    if (outcome.applied())
        m_executor.workspace()->finalize(deliveryId);
}

void ApplyWorker::withdrawn(const QString &deliveryId)
{
    // In order with the patches before and after it: on the worker's one thread. A delivery
    // that changed nothing has no transaction to undo.
    m_pool.start([this, deliveryId] {
        const Status s = m_executor.workspace()->rollback(deliveryId);
        if (!s.ok() && s.error().code != QLatin1String("txn_missing"))
            qCCritical(lcApply, "delivery %s: cannot undo it: %s", qPrintable(deliveryId),
                       qPrintable(s.error().message));
    });
}

void ApplyWorker::recover(const std::function<bool(const QString &)> &isSettled)
{
    Workspace *ws = m_executor.workspace();
    for (const QString &txn : ws->openTransactions()) {
        if (isSettled(txn))
            ws->finalize(txn);
        else if (Status s = ws->rollback(txn); !s.ok()) // never confirmed: undo, and re-run
            qCCritical(lcApply, "transaction %s: cannot roll back after a crash: %s",
                       qPrintable(txn), qPrintable(s.error().message));
    }
}
