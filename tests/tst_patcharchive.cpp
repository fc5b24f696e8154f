#include "patcharchive.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

class tst_PatchArchive : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase() { QLoggingCategory::setFilterRules("ghostrunner.*=false"); }

    void everyCopyIsWrittenByteForByteOnceFlushed()
    {
        QTemporaryDir dir;
        PatchArchive archive(dir.path());
        QList<QByteArray> bodies;
        for (int i = 0; i < 500; ++i) {
            QByteArray body = "{\"id\":\"p" + QByteArray::number(i) + "\"}";
            if (i % 7 == 0)
                body += QByteArray("\xff\x00\r\n", 4); // bytes, not text
            bodies.append(body);
            archive.save(QStringLiteral("d-%1").arg(i), body);
        }
        archive.flush();
        for (int i = 0; i < bodies.size(); ++i)
            QCOMPARE(TestSupport::readFile(archive.pathFor(QStringLiteral("d-%1").arg(i))),
                     bodies.at(i));
        QCOMPARE(archive.failures(), qint64(0));
        QCOMPARE(archive.pathFor("x"), dir.path() + "/x.json");
    }

    void theDestructorWritesWhatIsWaiting()
    {
        QTemporaryDir dir;
        {
            PatchArchive archive(dir.path());
            for (int i = 0; i < 50; ++i)
                archive.save(QStringLiteral("d-%1").arg(i), "body");
        }
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 50);
    }

    void pastTheBoundTheCallerWritesIt()
    {
        // A body bigger than the bound cannot wait in memory: save() writes it before returning.
        QTemporaryDir dir;
        PatchArchive archive(dir.path());
        const QByteArray big(int(PatchArchive::kMaxPendingBytes) + 1, 'x');
        archive.save("big", big);
        QCOMPARE(QFileInfo(archive.pathFor("big")).size(), qint64(big.size()));
    }

    void copiesThatCannotBeWrittenAreCounted()
    {
        QTemporaryDir dir;
        PatchArchive archive(dir.filePath("missing/dir"));
        archive.save("a", "one");
        archive.save("b", "two");
        archive.flush();
        QCOMPARE(archive.failures(), qint64(2));
    }
};

QTEST_GUILESS_MAIN(tst_PatchArchive)
#include "tst_patcharchive.moc"
