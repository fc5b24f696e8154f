#include "dispatcher.h"
#include "testsupport.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <memory>

namespace {

// Records what the Dispatcher asks of it and completes deliveries only when the test says so.
class TestSink final : public DeliverySink
{
public:
    struct Call
    {
        Delivery delivery;
        QByteArray body;
        Progress progress;
        Done done;
    };
    QList<Call> calls;
    QStringList confirmedIds;
    QStringList askAbout; // ids recover() asks isSettled() about
    QHash<QString, bool> settledAnswers;
    int recoverCalls = 0;
    // Checked at confirmed() time: the outcome must already be logged and journaled.
    std::function<void(const QString &)> onConfirmed;

    bool withdrawable = false; // like the executor (true) or a forwarder (false)
    QStringList withdrawnIds;

    QString activeStatus() const override { return QStringLiteral("applying"); }
    bool canWithdraw() const override { return withdrawable; }
    void withdrawn(const QString &deliveryId) override { withdrawnIds.append(deliveryId); }
    void deliver(const Delivery &delivery, const QByteArray &body, Progress progress,
                 Done done) override
    {
        calls.append({delivery, body, std::move(progress), std::move(done)});
    }
    void confirmed(const QString &deliveryId, const Outcome &outcome) override
    {
        Q_UNUSED(outcome);
        confirmedIds.append(deliveryId);
        if (onConfirmed)
            onConfirmed(deliveryId);
    }
    void recover(const std::function<bool(const QString &)> &isSettled) override
    {
        ++recoverCalls;
        for (const QString &id : askAbout)
            settledAnswers.insert(id, isSettled(id));
    }

    QStringList deliveredPatchIds() const
    {
        QStringList out;
        for (const Call &c : calls)
            out.append(c.delivery.patchId);
        return out;
    }
    void complete(int i, const QString &status = QStringLiteral("applied"))
    {
        Outcome o;
        o.status = status;
        o.format = QStringLiteral("pattern");
        if (status != QLatin1String("applied"))
            o.error = makeError("no_match", "the pattern matches nothing");
        calls[i].done(o);
    }
};

QStringList states(const Delivery &d)
{
    QStringList out;
    for (const DeliveryEvent &e : d.events)
        out.append(e.state);
    return out;
}

} // namespace

class tst_Dispatcher : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<DeliveryJournal> m_journal;
    std::unique_ptr<ConfirmationLog> m_log;
    std::unique_ptr<TestSink> m_sink;
    std::unique_ptr<Dispatcher> m_dispatcher;

    QString logPath() const { return m_dir->filePath("logs/delivery-confirmation.log"); }

    static RecordRequest request(const QString &patchId)
    {
        RecordRequest r;
        r.patchId = patchId;
        r.bodyHash = "h-" + patchId.toUtf8();
        r.format = QStringLiteral("pattern");
        r.body = "{\"id\":\"" + patchId.toUtf8() + "\"}";
        return r;
    }
    Delivery record(const QString &patchId)
    {
        const Result<RecordResult> res = m_journal->record(request(patchId));
        return res.ok() ? res->delivery : Delivery();
    }
    Delivery recordAndEnqueue(const QString &patchId)
    {
        const Delivery d = record(patchId);
        m_dispatcher->enqueue(d);
        return d;
    }
    // Committed but not yet flushed (the HTTP intake's group commit), and enqueued.
    Delivery recordLater(const QString &patchId)
    {
        const auto res =
            m_journal->recordBatch({request(patchId)}, DeliveryJournal::Durability::SyncLater);
        const Delivery d = res.first().ok() ? res.first()->delivery : Delivery();
        m_dispatcher->enqueue(d);
        return d;
    }
    QString status(const QString &id) const { return m_journal->find(id, false)->status; }
    // Completes the sink's call i and waits until the dispatcher has settled it (the log line
    // is written on the dispatcher's log thread).
    void complete(int i, const QString &outcome = QStringLiteral("applied"))
    {
        QSignalSpy finished(m_dispatcher.get(), &Dispatcher::deliveryFinished);
        m_sink->complete(i, outcome);
        QVERIFY(finished.wait(10000));
    }

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules("ghostrunner.*.info=false"); }
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_journal = std::make_unique<DeliveryJournal>();
        QVERIFY(m_journal->open(m_dir->filePath("journal.sqlite")).ok());
        m_log = std::make_unique<ConfirmationLog>();
        QVERIFY(m_log->open(logPath()).ok());
        m_sink = std::make_unique<TestSink>();
        m_dispatcher = std::make_unique<Dispatcher>(m_journal.get(), m_log.get(), m_sink.get());
    }
    void cleanup()
    {
        m_dispatcher.reset();
        m_sink.reset();
        m_log.reset();
        m_journal.reset();
        m_dir.reset();
    }

    void nothingIsDeliveredBeforeStart()
    {
        const Delivery d = recordAndEnqueue("p1");
        QVERIFY(m_sink->calls.isEmpty());
        QCOMPARE(status(d.id), QStringLiteral("queued"));
        QCOMPARE(m_dispatcher->queueLength(), 1);
        m_dispatcher->start();
        QCOMPARE(m_sink->calls.size(), 1);
    }

    void deliversInOrderOfReceiptOneAtATime()
    {
        m_dispatcher->start();
        QSignalSpy finished(m_dispatcher.get(), &Dispatcher::deliveryFinished);
        const Delivery a = recordAndEnqueue("a");
        const Delivery b = recordAndEnqueue("b");
        const Delivery c = recordAndEnqueue("c");
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a"}));
        QVERIFY(m_dispatcher->isBusy());
        QCOMPARE(m_dispatcher->currentDelivery(), a.id);
        QCOMPARE(m_dispatcher->queueLength(), 3);
        QCOMPARE(status(a.id), QStringLiteral("applying"));
        QCOMPARE(status(b.id), QStringLiteral("queued"));
        QCOMPARE(m_sink->calls.first().body, QByteArray("{\"id\":\"a\"}"));
        QCOMPARE(m_sink->calls.first().delivery.id, a.id);

        complete(0);
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a", "b"}));
        complete(1, "failed");
        complete(2);
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a", "b", "c"}));
        QCOMPARE(finished.size(), 3);
        QCOMPARE(finished.at(0).at(0).toString(), a.id);
        QCOMPARE(finished.at(1).at(0).toString(), b.id);
        QCOMPARE(finished.at(2).at(0).toString(), c.id);
        QCOMPARE(finished.at(1).at(2).value<Outcome>().status, QStringLiteral("failed"));
        QCOMPARE(status(b.id), QStringLiteral("failed"));
        QCOMPARE(status(c.id), QStringLiteral("applied"));
        QVERIFY(!m_dispatcher->isBusy());
        QCOMPARE(m_dispatcher->queueLength(), 0);
        QCOMPARE(m_dispatcher->lastResult(), QStringLiteral("applied"));
        QCOMPARE(m_sink->confirmedIds, QStringList({a.id, b.id, c.id}));
        QCOMPARE(states(m_journal->find(b.id).value()),
                 QStringList({"received", "journaled", "applying", "failed"}));
    }

    // An intake commit still on its way to the disk: a sink that can undo its work starts at
    // once, but the confirmation line, the journal's outcome and the signal wait for the flush.
    void aWithdrawableSinkStartsBeforeTheFlushAndItsLineWaits()
    {
        m_sink->withdrawable = true;
        m_dispatcher->start();
        QSignalSpy finished(m_dispatcher.get(), &Dispatcher::deliveryFinished);
        const Delivery a = recordLater("a");
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a"}));
        m_sink->complete(0);
        QCoreApplication::processEvents();
        QVERIFY(finished.isEmpty());
        QVERIFY(m_dispatcher->isBusy());
        QCOMPARE(status(a.id), QStringLiteral("applying"));
        QVERIFY(TestSupport::readFile(logPath()).isEmpty());
        QVERIFY(m_journal->syncWal().ok());
        m_journal->markDurable(a.seq);
        m_dispatcher->durable();
        QVERIFY(finished.wait(10000));
        QCOMPARE(status(a.id), QStringLiteral("applied"));
        QVERIFY(TestSupport::readFile(logPath()).contains(a.id.toUtf8()));
        QCOMPARE(m_sink->confirmedIds, QStringList({a.id}));
    }

    // A forwarder cannot take back what a runner received: it starts only once durable.
    void aSinkThatCannotWithdrawWaitsForTheFlush()
    {
        m_dispatcher->start();
        const Delivery a = recordLater("a");
        QVERIFY(m_sink->calls.isEmpty());
        QVERIFY(!m_dispatcher->isBusy());
        m_journal->markDurable(a.seq);
        m_dispatcher->durable();
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a"}));
    }

    // The flush failed: the delivery in progress is undone by the sink, whether it was still
    // running or done and waiting; queued ones are dropped; no line is written for any.
    void withdrawnDeliveriesAreUndoneAndNeverConfirmed()
    {
        m_sink->withdrawable = true;
        m_dispatcher->start();
        const Delivery a = recordLater("a");
        const Delivery b = recordLater("b");
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a"}));
        m_dispatcher->withdraw({a.seq, b.seq}); // a still running
        QVERIFY(m_dispatcher->isBusy());
        m_sink->complete(0);
        QCOMPARE(m_sink->withdrawnIds, QStringList({a.id}));
        QVERIFY(!m_dispatcher->isBusy());
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a"})); // b was dropped

        const Delivery c = recordLater("c");
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a", "c"}));
        m_sink->complete(1); // done, waiting for its flush
        m_dispatcher->withdraw({c.seq});
        QCOMPARE(m_sink->withdrawnIds, QStringList({a.id, c.id}));
        QVERIFY(!m_dispatcher->isBusy());
        QVERIFY(m_sink->confirmedIds.isEmpty());
        QVERIFY(TestSupport::readFile(logPath()).isEmpty());
    }

    void deliveryChangedFollowsTheStates()
    {
        m_dispatcher->start();
        QSignalSpy changed(m_dispatcher.get(), &Dispatcher::deliveryChanged);
        const Delivery a = recordAndEnqueue("a");
        complete(0);
        QStringList seen;
        for (const QList<QVariant> &args : changed) {
            QCOMPARE(args.at(0).toString(), a.id);
            QCOMPARE(args.at(1).toString(), QStringLiteral("a"));
            seen.append(args.at(2).toString());
        }
        QCOMPARE(seen, QStringList({"queued", "applying", "applied"}));
    }

    void progressGoesToTheTimeline()
    {
        m_dispatcher->start();
        const Delivery a = recordAndEnqueue("a");
        m_sink->calls.first().progress("attempt", QJsonObject{{"n", 1}});
        complete(0);
        const Delivery d = m_journal->find(a.id).value();
        QCOMPARE(states(d),
                 QStringList({"received", "journaled", "applying", "attempt", "applied"}));
        QCOMPARE(d.events.at(3).detail.value("n").toInt(), 1);
    }

    void logThenJournalThenSignal()
    {
        m_dispatcher->start();
        QStringList order;
        bool loggedFirst = false;
        m_sink->onConfirmed = [&](const QString &id) {
            // Only a logged outcome may be made permanent (on the log thread: no journal here).
            loggedFirst = m_log->find(id).has_value();
            order.append("confirmed");
        };
        connect(m_dispatcher.get(), &Dispatcher::deliveryFinished, this,
                [&](const QString &id, const QString &patchId, const Outcome &o) {
                    QCOMPARE(patchId, QStringLiteral("a"));
                    QCOMPARE(o.status, QStringLiteral("applied"));
                    const auto line = m_log->find(id);
                    QVERIFY(line.has_value());
                    QCOMPARE(line->value("status").toString(), QStringLiteral("applied"));
                    QCOMPARE(line->value("id").toString(), QStringLiteral("a"));
                    QCOMPARE(status(id), QStringLiteral("applied"));
                    order.append("finished");
                });
        recordAndEnqueue("a");
        complete(0);
        QCOMPARE(order, QStringList({"confirmed", "finished"}));
        QVERIFY(loggedFirst);
    }

    void outcomeWaitsUntilTheLogTakesIt()
    {
        // A log that cannot be written holds the outcome back: not journaled, not reported.
        m_log = std::make_unique<ConfirmationLog>(); // not open: append fails
        m_dispatcher = std::make_unique<Dispatcher>(m_journal.get(), m_log.get(), m_sink.get());
        m_dispatcher->start();
        QSignalSpy finished(m_dispatcher.get(), &Dispatcher::deliveryFinished);
        const Delivery a = recordAndEnqueue("a");
        recordAndEnqueue("b");
        m_sink->complete(0);
        QVERIFY(QTest::qWaitFor([this] { return !m_dispatcher->logError().isEmpty(); }));
        QCOMPARE(finished.size(), 0);
        QCOMPARE(status(a.id), QStringLiteral("applying"));
        QVERIFY(m_sink->confirmedIds.isEmpty());
        QVERIFY(!m_dispatcher->logError().isEmpty());
        QCOMPARE(m_sink->calls.size(), 1); // nothing else starts meanwhile

        QVERIFY(m_log->open(logPath()).ok()); // the disk is back
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.first().at(0).toString(), a.id);
        QCOMPARE(status(a.id), QStringLiteral("applied"));
        QVERIFY(m_log->find(a.id).has_value());
        QVERIFY(m_dispatcher->logError().isEmpty());
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a", "b"}));
    }

    void pauseStopsNewDeliveriesAndResumeContinues()
    {
        m_dispatcher->start();
        QSignalSpy paused(m_dispatcher.get(), &Dispatcher::pausedChanged);
        const Delivery a = recordAndEnqueue("a");
        m_dispatcher->setPaused(true);
        QCOMPARE(paused.size(), 1);
        QCOMPARE(paused.first().first().toBool(), true);
        QVERIFY(m_dispatcher->isPaused());
        m_dispatcher->setPaused(true); // no change, no signal
        QCOMPARE(paused.size(), 1);
        const Delivery b = recordAndEnqueue("b");
        const Delivery c = recordAndEnqueue("c");
        // The one in progress finishes; nothing new starts.
        complete(0);
        QCOMPARE(status(a.id), QStringLiteral("applied"));
        QCOMPARE(m_sink->calls.size(), 1);
        // Intake is still journaled while paused.
        QCOMPARE(status(b.id), QStringLiteral("queued"));
        QCOMPARE(status(c.id), QStringLiteral("queued"));
        QCOMPARE(m_journal->pendingCount(), qint64(2));
        QCOMPARE(m_dispatcher->queueLength(), 2);

        m_dispatcher->setPaused(false);
        QCOMPARE(paused.size(), 2);
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a", "b"}));
        complete(1);
        complete(2);
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"a", "b", "c"}));
        QCOMPARE(m_journal->pendingCount(), qint64(0));
    }

    void recoverSettlesFromTheLogAndRequeuesTheRest()
    {
        // The state a crash leaves: logged-but-not-journaled, applying-without-log, queued, done.
        const Delivery logged = record("logged");
        const Delivery unlogged = record("unlogged");
        const Delivery queued = record("queued");
        const Delivery done = record("done");
        QVERIFY(m_journal->setStatus(logged.id, "applying", "applying").ok());
        QVERIFY(m_journal->setStatus(unlogged.id, "applying", "applying").ok());
        Outcome applied;
        applied.status = QStringLiteral("applied");
        applied.format = QStringLiteral("pattern");
        QVERIFY(m_log->append(logged.id, "logged", applied).ok());
        QVERIFY(m_journal->finish(done.id, applied).ok());
        m_sink->askAbout = QStringList{logged.id, unlogged.id, queued.id, done.id};

        const Status s = m_dispatcher->recover();
        QVERIFY2(s.ok(), qPrintable(s.error().message));
        QCOMPARE(m_sink->recoverCalls, 1);
        // The logged one is finished from its log line, without the sink.
        QCOMPARE(status(logged.id), QStringLiteral("applied"));
        QCOMPARE(m_journal->find(logged.id)->outcome.status, QStringLiteral("applied"));
        QCOMPARE(m_sink->settledAnswers.value(logged.id), true);
        QCOMPARE(m_sink->settledAnswers.value(unlogged.id), false);
        QCOMPARE(m_sink->settledAnswers.value(queued.id), false);
        QCOMPARE(m_sink->settledAnswers.value(done.id), true);
        // The unlogged one is queued again, with a note in its timeline.
        QCOMPARE(status(unlogged.id), QStringLiteral("queued"));
        QCOMPARE(states(m_journal->find(unlogged.id).value()).last(), QStringLiteral("resumed"));
        QVERIFY(m_sink->calls.isEmpty());
        QCOMPARE(m_dispatcher->queueLength(), 2);

        m_dispatcher->start();
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"unlogged"}));
        complete(0);
        complete(1);
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"unlogged", "queued"}));
        QCOMPARE(status(unlogged.id), QStringLiteral("applied"));
        QCOMPARE(status(queued.id), QStringLiteral("applied"));
        // Exactly one log line per delivery.
        const QList<QByteArray> lines = TestSupport::readFile(logPath()).trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QCOMPARE(TestSupport::readFile(logPath()).count(unlogged.id.toUtf8()), 1);
        QCOMPARE(TestSupport::readFile(logPath()).count(logged.id.toUtf8()), 1);
    }

    void recoverTrustsTheLogOverALostStateChange()
    {
        // A power loss can take back the journal's newest state changes (committed with
        // synchronous=NORMAL), never the fsynced log line: a delivery the journal still shows
        // as queued, with a line in the log, is finished from the line and not applied again.
        const Delivery older = record("older");
        const Delivery lost = record("lost");
        const Delivery next = record("next");
        Outcome applied;
        applied.status = QStringLiteral("applied");
        applied.format = QStringLiteral("pattern");
        QVERIFY(m_log->append(older.id, "older", applied).ok());
        QVERIFY(m_journal->finish(older.id, applied).ok());
        QVERIFY(m_log->append(lost.id, "lost", applied).ok()); // its journal update was lost
        QVERIFY(m_dispatcher->recover().ok());
        QCOMPARE(status(lost.id), QStringLiteral("applied"));
        QCOMPARE(m_journal->find(lost.id)->outcome.status, QStringLiteral("applied"));
        m_dispatcher->start();
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"next"}));
        complete(0);
        QCOMPARE(status(next.id), QStringLiteral("applied"));
        QCOMPARE(TestSupport::readFile(logPath()).count(lost.id.toUtf8()), 1);
    }

    void aBacklogLongerThanAPageIsReadFromTheJournalInOrder()
    {
        // Past one page, queued deliveries wait in the journal, not in memory; they are read
        // back page by page, in order, whether they were queued before a restart or after.
        const int n = Dispatcher::kPage + 40;
        QStringList expected;
        for (int i = 0; i < n / 2; ++i)
            expected.append(record(QStringLiteral("r%1").arg(i)).patchId);
        QVERIFY(m_dispatcher->recover().ok());
        m_dispatcher->start();
        for (int i = n / 2; i < n; ++i)
            expected.append(recordAndEnqueue(QStringLiteral("r%1").arg(i)).patchId);
        QCOMPARE(m_dispatcher->queueLength(), n);
        for (int i = 0; i < n; ++i) {
            QCOMPARE(m_sink->calls.size(), i + 1);
            complete(i);
        }
        QCOMPARE(m_sink->deliveredPatchIds(), expected);
        QCOMPARE(m_dispatcher->queueLength(), 0);
        QCOMPARE(m_journal->countsByStatus().value("applied"), qint64(n));
    }

    void recoverAfterARestart()
    {
        // The same, through a real restart: new journal, log and dispatcher on the same files.
        const Delivery unlogged = record("unlogged");
        QVERIFY(m_journal->setStatus(unlogged.id, "applying", "applying").ok());
        m_dispatcher.reset();
        m_journal = std::make_unique<DeliveryJournal>();
        QVERIFY(m_journal->open(m_dir->filePath("journal.sqlite")).ok());
        m_log = std::make_unique<ConfirmationLog>();
        QVERIFY(m_log->open(logPath()).ok());
        m_dispatcher = std::make_unique<Dispatcher>(m_journal.get(), m_log.get(), m_sink.get());
        QVERIFY(m_dispatcher->recover().ok());
        m_dispatcher->start();
        QCOMPARE(m_sink->deliveredPatchIds(), QStringList({"unlogged"}));
        complete(0);
        QCOMPARE(status(unlogged.id), QStringLiteral("applied"));
        QCOMPARE(m_sink->calls.size(), 1);
    }

    void drainWaitsForTheCurrentDelivery()
    {
        m_dispatcher->start();
        const Delivery a = recordAndEnqueue("a");
        recordAndEnqueue("b");
        QTimer::singleShot(50, this, [this] { m_sink->complete(0); });
        m_dispatcher->drain(10000);
        QCOMPARE(status(a.id), QStringLiteral("applied"));
        QVERIFY(!m_dispatcher->isBusy());
        // Draining: nothing new starts.
        QCOMPARE(m_sink->calls.size(), 1);
    }
};

QTEST_GUILESS_MAIN(tst_Dispatcher)
#include "tst_dispatcher.moc"
