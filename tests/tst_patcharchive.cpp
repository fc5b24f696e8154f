// The readable copies under STATE/patches, written from a real journal by the archive's thread:
// byte for byte, only for deliveries said to be durable, resumed after a stop, and counted when
// they cannot be written.

#include "deliveryjournal.h"
#include "patcharchive.h"
#include "testsupport.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

class tst_PatchArchive : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<DeliveryJournal> m_journal;

    QString journalPath() const { return m_dir->filePath("journal.sqlite"); }
    QString copies() const { return m_dir->filePath("patches"); }
    // Journals `body` under patch id `id`; returns the delivery.
    Delivery record(const QString &id, const QByteArray &body)
    {
        RecordRequest r;
        r.patchId = id;
        r.bodyHash = QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex();
        r.format = "pattern";
        r.body = body;
        r.source = "open";
        const Result<RecordResult> res = m_journal->record(r);
        return res.ok() ? res->delivery : Delivery();
    }
    int copyCount() const { return int(QDir(copies()).entryList(QDir::Files).size()); }

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules("ghostrunner.*=false"); }
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(QDir().mkpath(copies()));
        m_journal = std::make_unique<DeliveryJournal>();
        QVERIFY(m_journal->open(journalPath()).ok());
    }
    void cleanup()
    {
        m_journal.reset();
        m_dir.reset();
    }

    void everyCopyIsWrittenByteForByteOnceFlushed()
    {
        PatchArchive archive(copies(), journalPath(), 0);
        QList<QPair<QString, QByteArray>> sent;
        for (int i = 0; i < 600; ++i) { // more than one batch
            QByteArray body = "{\"id\":\"p" + QByteArray::number(i) + "\"}";
            if (i % 7 == 0)
                body += QByteArray("\xff\x00\r\n", 4); // bytes, not text
            const Delivery d = record(QStringLiteral("p%1").arg(i), body);
            sent.append({d.id, body});
            archive.copyUpTo(d.seq);
        }
        archive.flush();
        for (const auto &[id, body] : sent)
            QCOMPARE(TestSupport::readFile(archive.pathFor(id)), body);
        QCOMPARE(copyCount(), 600);
        QCOMPARE(archive.failures(), qint64(0));
        QCOMPARE(archive.pathFor("x"), copies() + "/x.json");
    }

    // Only what the caller says is durable is copied; a seq that is gone (a commit taken back)
    // is passed over.
    void onlyDeliveriesSaidToBeDurableAreCopied()
    {
        PatchArchive archive(copies(), journalPath(), 0);
        const Delivery a = record("a", "one");
        const Delivery b = record("b", "two");
        archive.copyUpTo(a.seq);
        archive.flush();
        QVERIFY(QFile::exists(archive.pathFor(a.id)));
        QVERIFY(!QFile::exists(archive.pathFor(b.id)));
        QVERIFY(m_journal->discard({b.seq}).ok());
        const Delivery c = record("c", "three");
        archive.copyUpTo(c.seq);
        archive.flush();
        QVERIFY(!QFile::exists(archive.pathFor(b.id)));
        QCOMPARE(TestSupport::readFile(archive.pathFor(c.id)), QByteArray("three"));
        QCOMPARE(archive.failures(), qint64(0));
    }

    // A stop (or a crash) before the copies were written: the next start writes the missing
    // ones, newest first, back to the last one that exists.
    void aStartWritesTheCopiesAStopLeftMissing()
    {
        QList<Delivery> all;
        for (int i = 0; i < 5; ++i)
            all.append(record(QStringLiteral("r%1").arg(i), "body " + QByteArray::number(i)));
        TestSupport::writeFile(copies() + "/" + all.at(1).id + ".json", "body 1");
        {
            PatchArchive archive(copies(), journalPath(), all.last().seq);
            archive.flush();
        }
        QVERIFY(!QFile::exists(copies() + "/" + all.at(0).id + ".json")); // before the last copy
        for (int i = 1; i < 5; ++i)
            QCOMPARE(TestSupport::readFile(copies() + "/" + all.at(i).id + ".json"),
                     "body " + QByteArray::number(i));
    }

    void copiesThatCannotBeWrittenAreCounted()
    {
        PatchArchive archive(m_dir->filePath("missing/dir"), journalPath(), 0);
        archive.copyUpTo(record("a", "one").seq);
        archive.copyUpTo(record("b", "two").seq);
        archive.flush();
        QCOMPARE(archive.failures(), qint64(2));
    }

    void aJournalThatCannotBeReadCountsItsCopiesAsLost()
    {
        PatchArchive archive(copies(), m_dir->filePath("no/such/journal.sqlite"), 0);
        archive.copyUpTo(3);
        archive.flush();
        QCOMPARE(archive.failures(), qint64(3));
        QCOMPARE(copyCount(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_PatchArchive)
#include "tst_patcharchive.moc"
