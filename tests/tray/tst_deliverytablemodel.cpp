// DeliveryTableModel and DeliveryFilterModel over a real journal (SQLite in a QTemporaryDir),
// and the deliveries window's detail for a failed delivery.
#include "deliverieswindow.h"
#include "deliveryfiltermodel.h"
#include "deliveryjournal.h"
#include "deliverytablemodel.h"

#include <QJsonArray>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

class tst_DeliveryTableModel : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void rowsComeFromTheJournal();
    void filter_data();
    void filter();
    void upsertUpdatesInPlace();
    void detailShowsTheFailure();

private:
    QString record(const QString &patchId, const QString &status, qint64 at);
    QTemporaryDir m_dir;
    DeliveryJournal m_journal;
};

QString tst_DeliveryTableModel::record(const QString &patchId, const QString &status, qint64 at)
{
    RecordRequest r;
    r.patchId = patchId;
    r.bodyHash = patchId.toUtf8();
    r.format = QStringLiteral("unified");
    r.body = QStringLiteral(R"({"id":"%1","patch":"--- a/src/a.c\n+++ b/src/a.c\n"})")
                 .arg(patchId)
                 .toUtf8();
    r.receivedAtMs = at;
    const Result<RecordResult> rec = m_journal.record(r);
    if (!rec.ok())
        return QString();
    const QString id = rec->delivery.id;
    if (status == QLatin1String("queued"))
        return id;
    Outcome o;
    o.status = status;
    o.format = QStringLiteral("unified");
    o.durationMs = 1.5;
    if (status == QLatin1String("applied")) {
        o.files = QJsonArray{QJsonObject{{"path", "src/a.c"}, {"action", "modified"}}};
    } else {
        o.error = makeError("hunk_failed", "hunk 2 of src/a.c did not match near line 40");
        o.error.file = "src/a.c";
        o.error.hunk = 2;
    }
    (void)m_journal.setStatus(id, "applying", "applying");
    if (!m_journal.finish(id, o).ok())
        return QString();
    return id;
}

void tst_DeliveryTableModel::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(m_journal.open(m_dir.path() + "/journal.sqlite").ok());
    QVERIFY(!record("patch-ok-1", "applied", 1'700'000'000'000).isEmpty());
    QVERIFY(!record("patch-bad-2", "failed", 1'700'000'001'000).isEmpty());
    QVERIFY(!record("patch-ok-3", "applied", 1'700'000'002'000).isEmpty());
    QVERIFY(!record("patch-dead-4", "dead", 1'700'000'003'000).isEmpty());
    QVERIFY(!record("patch-wait-5", "queued", 1'700'000'004'000).isEmpty());
}

void tst_DeliveryTableModel::rowsComeFromTheJournal()
{
    DeliveryTableModel model;
    QVERIFY(model.reload(m_journal).ok());
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.columnCount(), 5);
    QCOMPARE(
        model.headerData(DeliveryTableModel::Outcome, Qt::Horizontal, Qt::DisplayRole).toString(),
        QStringLiteral("Outcome"));
    // Newest first.
    QCOMPARE(model.index(0, DeliveryTableModel::PatchId).data().toString(),
             QStringLiteral("patch-wait-5"));
    const int bad = model.rowOf(model.deliveryAt(3)->id);
    QCOMPARE(model.index(bad, DeliveryTableModel::PatchId).data().toString(),
             QStringLiteral("patch-bad-2"));
    QCOMPARE(model.index(bad, DeliveryTableModel::Outcome).data().toString(),
             QStringLiteral("✗ failed"));
    QCOMPARE(model.index(bad, DeliveryTableModel::Format).data().toString(),
             QStringLiteral("unified"));
    QCOMPARE(model.index(bad, DeliveryTableModel::Duration).data().toString(),
             QStringLiteral("1.5 ms"));
    QVERIFY(model.index(bad, 0).data(Qt::ToolTipRole).toString().contains("hunk 2"));
    QVERIFY(!model.index(bad, DeliveryTableModel::Received).data().toString().isEmpty());
    QCOMPARE(model.index(0, DeliveryTableModel::Duration).data().toString(),
             QString()); // unfinished
    QCOMPARE(model.index(0, 0).data(DeliveryTableModel::StatusRole).toString(),
             QStringLiteral("queued"));
}

void tst_DeliveryTableModel::filter_data()
{
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("patchIds");
    QTest::newRow("all") << ""
                         << ""
                         << QStringList{"patch-wait-5", "patch-dead-4", "patch-ok-3", "patch-bad-2",
                                        "patch-ok-1"};
    QTest::newRow("failed") << "failed"
                            << "" << QStringList{"patch-bad-2"};
    QTest::newRow("problems") << "problems"
                              << "" << QStringList{"patch-dead-4", "patch-bad-2"};
    QTest::newRow("pending") << "pending"
                             << "" << QStringList{"patch-wait-5"};
    QTest::newRow("text on patch id") << ""
                                      << "OK-" << QStringList{"patch-ok-3", "patch-ok-1"};
    QTest::newRow("text on error") << ""
                                   << "near line 40" << QStringList{"patch-dead-4", "patch-bad-2"};
    QTest::newRow("status and text") << "applied"
                                     << "ok-3" << QStringList{"patch-ok-3"};
    QTest::newRow("nothing") << "rejected"
                             << "" << QStringList{};
}

void tst_DeliveryTableModel::filter()
{
    QFETCH(QString, status);
    QFETCH(QString, text);
    QFETCH(QStringList, patchIds);
    DeliveryTableModel model;
    QVERIFY(model.reload(m_journal).ok());
    DeliveryFilterModel proxy;
    proxy.setSourceModel(&model);
    proxy.setStatus(status);
    proxy.setText(text);
    QStringList got;
    for (int r = 0; r < proxy.rowCount(); ++r)
        got << proxy.index(r, DeliveryTableModel::PatchId).data().toString();
    QCOMPARE(got, patchIds);
}

void tst_DeliveryTableModel::upsertUpdatesInPlace()
{
    DeliveryTableModel model;
    QVERIFY(model.reload(m_journal).ok());
    Delivery d = *model.deliveryAt(0);
    d.status = "applied";
    model.upsert(d);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.index(0, 0).data(DeliveryTableModel::StatusRole).toString(),
             QStringLiteral("applied"));
    Delivery fresh;
    fresh.id = "new-id";
    fresh.patchId = "patch-new";
    fresh.status = "queued";
    model.upsert(fresh);
    QCOMPARE(model.rowCount(), 6);
    QCOMPARE(model.rowOf("new-id"), 0);
}

void tst_DeliveryTableModel::detailShowsTheFailure()
{
    DeliveriesWindow window;
    DeliveryFilter f;
    const Result<QList<Delivery>> list = m_journal.list(f);
    QVERIFY(list.ok());
    window.setDeliveries(*list);
    QString badId;
    for (const Delivery &d : *list)
        if (d.patchId == "patch-bad-2")
            badId = d.id;
    QSignalSpy asked(&window, &DeliveriesWindow::detailRequested);
    window.selectDelivery(badId);
    QCOMPARE(asked.count(), 1);
    QCOMPARE(window.currentDeliveryId(), badId);
    const Result<Delivery> d = m_journal.find(badId, true);
    QVERIFY(d.ok());
    window.showDetail(*d, m_journal.body(badId));
    const QString text = window.detailText();
    QVERIFY2(text.contains("hunk 2 of src/a.c did not match near line 40"), qPrintable(text));
    QVERIFY(text.contains("Timeline"));
    QVERIFY(text.contains("applying"));
    QVERIFY(text.contains("Files touched"));
    QVERIFY(text.contains("--- a/src/a.c")); // the patch as received
    QSignalSpy replay(&window, &DeliveriesWindow::replayRequested);
    auto *button = window.findChild<QPushButton *>();
    QVERIFY(button && button->isEnabled());
    button->click();
    QCOMPARE(replay.count(), 1);
    QCOMPARE(replay.at(0).at(0).toString(), badId);
}

QTEST_MAIN(tst_DeliveryTableModel)
#include "tst_deliverytablemodel.moc"
