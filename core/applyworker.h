#pragma once
// The local DeliverySink (all-in-one and runner roles): runs PatchExecutor on a worker thread so
// intake never waits for a patch, keeps each applied transaction open until the outcome is
// logged, and after a crash rolls back whatever was committed but never confirmed.

#include "deliverysink.h"
#include "patchexecutor.h"

#include <QObject>
#include <QThreadPool>

class ApplyWorker final : public QObject, public DeliverySink
{
    Q_OBJECT
public:
    ApplyWorker(Workspace *workspace, CommandRunner commands, QObject *parent = nullptr);
    ~ApplyWorker() override;

    QString activeStatus() const override { return QStringLiteral("applying"); }
    void deliver(const Delivery &delivery, const QByteArray &body, Progress progress,
                 Done done) override;
    void confirmed(const QString &deliveryId, const Outcome &outcome) override;
    bool canWithdraw() const override { return true; }
    void withdrawn(const QString &deliveryId) override;
    void recover(const std::function<bool(const QString &)> &isSettled) override;

    PatchExecutor &executor() { return m_executor; }
    void waitForIdle() { m_pool.waitForDone(); }

private:
    PatchExecutor m_executor;
    QThreadPool m_pool;
};
