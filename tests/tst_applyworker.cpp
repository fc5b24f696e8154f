#include "applyworker.h"
#include "dispatcher.h"
#include "testsupport.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <memory>
#include <optional>

using TestSupport::readTree;
using TestSupport::writeTree;

namespace {
QByteArray patternEnvelope(const QString &id, const QString &file, const QString &pattern,
                           const QString &replacement)
{
    return QJsonDocument(QJsonObject{{"id", id},
                                     {"format", "pattern"},
                                     {"target_file", file},
                                     {"patch", QJsonObject{{"pattern", pattern},
                                                           {"replacement", replacement}}}})
        .toJson(QJsonDocument::Compact);
}

Delivery delivery(const QString &id, const QString &patchId)
{
    Delivery d;
    d.id = id;
    d.patchId = patchId;
    d.status = QStringLiteral("applying");
    return d;
}

FileChange change(FileChange::Action action, const QString &path, const QByteArray &contents = {})
{
    FileChange c;
    c.action = action;
    c.path = path;
    c.contents = contents;
    return c;
}
} // namespace

class tst_ApplyWorker : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_ws;
    QString m_txn;

    WorkspaceOptions options() const
    {
        WorkspaceOptions o;
        o.txnDir = m_txn;
        return o;
    }

    // Runs one delivery through the worker and waits for its outcome.
    static std::optional<Outcome> run(ApplyWorker &worker, const Delivery &d,
                                      const QByteArray &body, QThread **doneThread = nullptr)
    {
        std::optional<Outcome> out;
        worker.deliver(
            d, body, [](const QString &, const QJsonObject &) {},
            [&out, doneThread](const Outcome &o) {
                out = o;
                if (doneThread)
                    *doneThread = QThread::currentThread();
            });
        // A timeout leaves out empty, which the callers check.
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
        return out;
    }

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules("ghostrunner.*.info=false"); }
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_ws = m_dir->filePath("ws");
        m_txn = m_dir->filePath("state/txn");
        writeTree(m_ws, {{"src/a.txt", "hello world\n"}, {"keep.txt", "keep\n"}});
    }
    void cleanup() { m_dir.reset(); }

    void appliesARealPatternPatch()
    {
        Workspace ws(m_ws, options());
        ApplyWorker worker(&ws, CommandRunner());
        QCOMPARE(worker.activeStatus(), QStringLiteral("applying"));
        QThread *doneThread = nullptr;
        const auto o = run(worker, delivery("d-1", "p1"),
                           patternEnvelope("p1", "src/a.txt", "world", "there"), &doneThread);
        QVERIFY(o.has_value());
        QVERIFY2(o->applied(), qPrintable(o->error.message));
        QCOMPARE(o->format, QStringLiteral("pattern"));
        QCOMPARE(o->files.size(), 1);
        QCOMPARE(o->files.first().toObject().value("path").toString(), QStringLiteral("src/a.txt"));
        QCOMPARE(doneThread, QThread::currentThread()); // done runs on the caller's thread
        QCOMPARE(TestSupport::readFile(m_ws + "/src/a.txt"), QByteArray("hello there\n"));
        // Until the outcome is confirmed the transaction stays open (it could still be undone).
        QCOMPARE(ws.openTransactions(), QStringList({"d-1"}));
        worker.confirmed("d-1", *o); // drops the backups before it returns
        QVERIFY(ws.openTransactions().isEmpty());
        QCOMPARE(readTree(m_ws), (QMap<QString, QByteArray>{{"src/a.txt", "hello there\n"},
                                                            {"keep.txt", "keep\n"}}));
    }

    // A delivery whose intake never reached the disk is undone after it was applied (and a
    // failed one, which changed nothing, is passed over).
    void aWithdrawnDeliveryIsRolledBack()
    {
        Workspace ws(m_ws, options());
        ApplyWorker worker(&ws, CommandRunner());
        QVERIFY(worker.canWithdraw());
        const auto o = run(worker, delivery("d-w", "pw"),
                           patternEnvelope("pw", "src/a.txt", "world", "there"));
        QVERIFY(o.has_value() && o->applied());
        QCOMPARE(TestSupport::readFile(m_ws + "/src/a.txt"), QByteArray("hello there\n"));
        worker.withdrawn("d-w");
        worker.waitForIdle();
        QVERIFY(ws.openTransactions().isEmpty());
        QCOMPARE(readTree(m_ws), (QMap<QString, QByteArray>{{"src/a.txt", "hello world\n"},
                                                            {"keep.txt", "keep\n"}}));
        const auto failed =
            run(worker, delivery("d-f", "pf"), patternEnvelope("pf", "src/a.txt", "absent", "x"));
        QVERIFY(failed.has_value() && !failed->applied());
        worker.withdrawn("d-f");
        worker.waitForIdle();
        QCOMPARE(TestSupport::readFile(m_ws + "/src/a.txt"), QByteArray("hello world\n"));
    }

    void failuresLeaveTheWorkspaceAlone_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("status");
        QTest::addColumn<QString>("code");
        QTest::newRow("no match") << patternEnvelope("p", "src/a.txt", "absent", "x") << "failed"
                                  << "no_match";
        QTest::newRow("missing file") << patternEnvelope("p", "src/none.txt", "a", "b") << "failed"
                                      << "file_not_found";
        QTest::newRow("outside the workspace")
            << patternEnvelope("p", "../outside.txt", "a", "b") << "rejected"
            << "path_outside_workspace";
        QTest::newRow("not json") << QByteArray("{nope") << "rejected"
                                  << "bad_json";
        QTest::newRow("no id") << QByteArray("{\"format\":\"pattern\"}") << "rejected"
                               << "missing_id";
    }
    void failuresLeaveTheWorkspaceAlone()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, status);
        QFETCH(QString, code);
        const auto before = readTree(m_ws);
        Workspace ws(m_ws, options());
        ApplyWorker worker(&ws, CommandRunner());
        const auto o = run(worker, delivery("d-1", "p"), body);
        QVERIFY(o.has_value());
        QCOMPARE(o->status, status);
        QCOMPARE(o->error.code, code);
        QVERIFY(!o->error.message.isEmpty());
        QCOMPARE(readTree(m_ws), before);
        QVERIFY(ws.openTransactions().isEmpty());
    }

    void deliveriesApplyInOrder()
    {
        // The second patch only matches once the first has been applied.
        Workspace ws(m_ws, options());
        ApplyWorker worker(&ws, CommandRunner());
        QStringList finished;
        for (const auto &[id, from, to] :
             {std::tuple<QString, QString, QString>{"d-1", "world", "brave world"},
              {"d-2", "brave", "new"},
              {"d-3", "new world", "new world!"}}) {
            worker.deliver(
                delivery(id, id), patternEnvelope(id, "src/a.txt", from, to),
                [](const QString &, const QJsonObject &) {},
                [&finished, id = id](const Outcome &o) { finished.append(id + ':' + o.status); });
        }
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, 10000);
        QCOMPARE(finished, QStringList({"d-1:applied", "d-2:applied", "d-3:applied"}));
        QCOMPARE(TestSupport::readFile(m_ws + "/src/a.txt"), QByteArray("hello new world!\n"));
    }

    void recoverRollsBackUnconfirmedAndFinalizesSettled()
    {
        const auto original = readTree(m_ws);
        {
            // The process that crashed: two commits, neither finalized.
            Workspace ws(m_ws, options());
            ChangeSet unsettled;
            unsettled.changes = {change(FileChange::Action::Modified, "src/a.txt", "changed\n"),
                                 change(FileChange::Action::Added, "new/dir/b.txt", "b\n"),
                                 change(FileChange::Action::Deleted, "keep.txt")};
            QVERIFY(ws.commit(unsettled, "txn-unsettled").ok());
            QCOMPARE(TestSupport::readFile(m_ws + "/src/a.txt"), QByteArray("changed\n"));
            QVERIFY(!QFile::exists(m_ws + "/keep.txt"));
            ChangeSet settled;
            settled.changes = {change(FileChange::Action::Added, "settled.txt", "s\n")};
            QVERIFY(ws.commit(settled, "txn-settled").ok());
        }
        // The restarted process.
        Workspace ws(m_ws, options());
        QCOMPARE(ws.openTransactions().size(), 2);
        ApplyWorker worker(&ws, CommandRunner());
        QStringList asked;
        worker.recover([&asked](const QString &id) {
            asked.append(id);
            return id == QLatin1String("txn-settled");
        });
        asked.sort();
        QCOMPARE(asked, QStringList({"txn-settled", "txn-unsettled"}));
        QVERIFY(ws.openTransactions().isEmpty());
        auto expected = original;
        expected.insert("settled.txt", "s\n");
        // Exactly the original tree plus the settled change: no backups or temp files left.
        QCOMPARE(readTree(m_ws), expected);
        QVERIFY(!QFileInfo::exists(m_ws + "/new"));
    }

    // The whole local path after a crash: Dispatcher + ApplyWorker + real journal and log.
    void crashRecoveryAppliesExactlyOnce_data()
    {
        QTest::addColumn<bool>("logged"); // did the crash happen after the log line?
        QTest::newRow("crash before the log line") << false;
        QTest::newRow("crash after the log line") << true;
    }
    void crashRecoveryAppliesExactlyOnce()
    {
        QFETCH(bool, logged);
        const QString journalPath = m_dir->filePath("state/journal.sqlite");
        const QString logPath = m_dir->filePath("state/logs/delivery-confirmation.log");
        // Not idempotent: applied twice it would read "hello worldXX".
        const QByteArray body = patternEnvelope("p1", "src/a.txt", "world", "worldX");
        QString id;
        QVERIFY(QDir().mkpath(m_dir->filePath("state")));
        {
            DeliveryJournal journal;
            QVERIFY(journal.open(journalPath).ok());
            RecordRequest r;
            r.patchId = "p1";
            r.bodyHash = "h";
            r.format = "pattern";
            r.body = body;
            id = journal.record(r)->delivery.id;
            QVERIFY(journal.setStatus(id, "applying", "applying").ok());
            // The patch was committed, then the process died before finalizing.
            Workspace ws(m_ws, options());
            PatchExecutor executor(&ws, CommandRunner());
            const Outcome o = executor.execute(Envelope::parse(body).value(), id);
            QVERIFY(o.applied());
            if (logged) {
                ConfirmationLog log;
                QVERIFY(log.open(logPath).ok());
                QVERIFY(log.append(id, "p1", o).ok());
            }
        }
        QCOMPARE(TestSupport::readFile(m_ws + "/src/a.txt"), QByteArray("hello worldX\n"));

        DeliveryJournal journal;
        QVERIFY(journal.open(journalPath).ok());
        ConfirmationLog log;
        QVERIFY(log.open(logPath).ok());
        Workspace ws(m_ws, options());
        ApplyWorker worker(&ws, CommandRunner());
        Dispatcher dispatcher(&journal, &log, &worker);
        QSignalSpy finished(&dispatcher, &Dispatcher::deliveryFinished);
        QVERIFY(dispatcher.recover().ok());
        dispatcher.start();
        if (!logged)
            QVERIFY(finished.wait(10000)); // rolled back, then applied again
        QCOMPARE(journal.find(id, false)->status, QStringLiteral("applied"));
        QCOMPARE(TestSupport::readFile(m_ws + "/src/a.txt"), QByteArray("hello worldX\n"));
        QCOMPARE(finished.size(), logged ? 0 : 1);
        worker.waitForIdle();
        QVERIFY(ws.openTransactions().isEmpty());
        QCOMPARE(readTree(m_ws), (QMap<QString, QByteArray>{{"src/a.txt", "hello worldX\n"},
                                                            {"keep.txt", "keep\n"}}));
        QCOMPARE(TestSupport::readFile(logPath).count(id.toUtf8()), 1);
    }
};

QTEST_GUILESS_MAIN(tst_ApplyWorker)
#include "tst_applyworker.moc"
