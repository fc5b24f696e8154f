// The one shape every patch format becomes: action names and the "files" array of the
// confirmation log and the API answers.

#include "changeset.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

Q_DECLARE_METATYPE(FileChange::Action)

namespace {
FileChange change(FileChange::Action action, const QString &path, int added = 0, int removed = 0)
{
    FileChange c;
    c.action = action;
    c.path = path;
    c.linesAdded = added;
    c.linesRemoved = removed;
    return c;
}

QByteArray compact(const QJsonArray &a)
{
    return QJsonDocument(a).toJson(QJsonDocument::Compact);
}
} // namespace

class tst_ChangeSet : public QObject
{
    Q_OBJECT
private slots:
    void actionNames_data()
    {
        QTest::addColumn<FileChange::Action>("action");
        QTest::addColumn<QString>("name");
        QTest::newRow("added") << FileChange::Action::Added << "added";
        QTest::newRow("modified") << FileChange::Action::Modified << "modified";
        QTest::newRow("deleted") << FileChange::Action::Deleted << "deleted";
        QTest::newRow("renamed") << FileChange::Action::Renamed << "renamed";
    }
    void actionNames()
    {
        QFETCH(FileChange::Action, action);
        QFETCH(QString, name);
        QCOMPARE(FileChange::actionName(action), name);
    }

    void defaultsAreAModificationWithoutMode()
    {
        const FileChange c;
        QCOMPARE(c.action, FileChange::Action::Modified);
        QVERIFY(!c.mode.has_value());
        QCOMPARE(c.linesAdded, 0);
        QCOMPARE(c.linesRemoved, 0);
        QVERIFY(ChangeSet().isEmpty());
        QVERIFY(ChangeSet().filesJson().isEmpty());
    }

    void fileEntry_data()
    {
        QTest::addColumn<FileChange::Action>("action");
        QTest::addColumn<QString>("oldPath");
        QTest::addColumn<int>("mode"); // -1: the patch sets none
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("modified") << FileChange::Action::Modified << QString() << -1
                                  << QByteArray(
                                         R"({"action":"modified","added":3,"path":"src/a.c",)"
                                         R"("removed":1})");
        QTest::newRow("added with mode")
            << FileChange::Action::Added << QString() << 0755
            << QByteArray(R"({"action":"added","added":3,"mode":"0755","path":"src/a.c",)"
                          R"("removed":1})");
        QTest::newRow("mode padded to four digits")
            << FileChange::Action::Modified << QString() << 0644
            << QByteArray(R"({"action":"modified","added":3,"mode":"0644","path":"src/a.c",)"
                          R"("removed":1})");
        QTest::newRow("mode zero") << FileChange::Action::Modified << QString() << 0
                                   << QByteArray(R"({"action":"modified","added":3,"mode":"0000",)"
                                                 R"("path":"src/a.c","removed":1})");
        QTest::newRow("setuid mode keeps its digit")
            << FileChange::Action::Modified << QString() << 04755
            << QByteArray(R"({"action":"modified","added":3,"mode":"4755","path":"src/a.c",)"
                          R"("removed":1})");
        QTest::newRow("renamed names where it was")
            << FileChange::Action::Renamed << "old/a.c" << -1
            << QByteArray(R"({"action":"renamed","added":3,"from":"old/a.c","path":"src/a.c",)"
                          R"("removed":1})");
        QTest::newRow("oldPath ignored unless renamed")
            << FileChange::Action::Deleted << "old/a.c" << -1
            << QByteArray(R"({"action":"deleted","added":3,"path":"src/a.c","removed":1})");
    }
    void fileEntry()
    {
        QFETCH(FileChange::Action, action);
        QFETCH(QString, oldPath);
        QFETCH(int, mode);
        QFETCH(QByteArray, expected);
        FileChange c = change(action, "src/a.c", 3, 1);
        c.oldPath = oldPath;
        c.contents = "contents never appear in the log";
        if (mode >= 0)
            c.mode = mode;
        ChangeSet set;
        set.changes.append(c);
        QVERIFY(!set.isEmpty());
        const QJsonArray files = set.filesJson();
        QCOMPARE(files.size(), 1);
        QCOMPARE(QJsonDocument(files.first().toObject()).toJson(QJsonDocument::Compact), expected);
    }

    void filesKeepTheOrderOfChangesAndLeaveNotesOut()
    {
        ChangeSet set;
        set.changes = {change(FileChange::Action::Deleted, "z.txt", 0, 4),
                       change(FileChange::Action::Added, "a.txt", 2, 0),
                       change(FileChange::Action::Modified, "m/b.txt", 1, 1)};
        set.notes = {"hunk 1 of m/b.txt applied at offset +3"};
        QCOMPARE(compact(set.filesJson()),
                 QByteArray(R"([{"action":"deleted","added":0,"path":"z.txt","removed":4},)"
                            R"({"action":"added","added":2,"path":"a.txt","removed":0},)"
                            R"({"action":"modified","added":1,"path":"m/b.txt","removed":1}])"));
    }

    void notesAloneDoNotMakeItNonEmpty()
    {
        ChangeSet set;
        set.notes = {"nothing to do"};
        QVERIFY(set.isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_ChangeSet)
#include "tst_changeset.moc"
