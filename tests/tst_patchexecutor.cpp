#include "patchexecutor.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using Tree = QMap<QString, QByteArray>;

class tst_PatchExecutor : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString root() const { return m_tmp.path() + "/ws"; }
    Envelope envelope(const QJsonObject &o)
    {
        const Result<Envelope> e = Envelope::parse(QJsonDocument(o).toJson());
        if (!e.ok())
            qFatal("bad test envelope: %s", qPrintable(e.error().message));
        return *e;
    }
    QJsonObject mutations(const QJsonArray &m, const QJsonObject &extra = {})
    {
        QJsonObject o{{"id", "t"}, {"mutations", m}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            o.insert(it.key(), it.value());
        return o;
    }

private slots:
    void init()
    {
        QDir(root()).removeRecursively();
        TestSupport::writeTree(root(), {{"a.txt", "one\ntwo\n"}, {"b.txt", "bee\n"}});
    }

    void appliesAndReportsFiles()
    {
        Workspace ws(root());
        PatchExecutor ex(&ws, CommandRunner());
        const Outcome o = ex.execute(
            envelope(mutations({QJsonObject{{"path", "a.txt"}, {"insertAt", 2}, {"contents", "1.5"}},
                                QJsonObject{{"path", "c.txt"}, {"contents", "sea\n"}},
                                QJsonObject{{"path", "b.txt"}, {"op", "delete"}}})),
            "x1");
        QCOMPARE(o.status, QString("applied"));
        ws.finalize("x1");
        QCOMPARE(TestSupport::readTree(root()), (Tree{{"a.txt", "one\n1.5\ntwo\n"}, {"c.txt", "sea\n"}}));
        QCOMPARE(o.files.size(), 3);
        QCOMPARE(o.files[0].toObject()["path"].toString(), QString("a.txt"));
        QCOMPARE(o.files[0].toObject()["action"].toString(), QString("modified"));
        QCOMPARE(o.files[0].toObject()["added"].toInt(), 1);
        QCOMPARE(o.files[1].toObject()["action"].toString(), QString("deleted"));
        QCOMPARE(o.files[2].toObject()["action"].toString(), QString("added"));
        QVERIFY(o.durationMs > 0);
    }

    void failureChangesNothing()
    {
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root());
        PatchExecutor ex(&ws, CommandRunner());
        const Outcome o = ex.execute(envelope(QJsonObject{{"id", "p"},
                                                          {"target_file", "a.txt"},
                                                          {"patch", QJsonObject{{"pattern", "zzz"},
                                                                                {"replacement", "y"}}}}),
                                     "x2");
        QCOMPARE(o.status, QString("failed"));
        QCOMPARE(o.error.code, QString("no_match"));
        QCOMPARE(o.error.file, QString("a.txt"));
        QCOMPARE(TestSupport::readTree(root()), before);
    }

    void sandboxViolationIsRejected()
    {
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root());
        PatchExecutor ex(&ws, CommandRunner());
        const Outcome o = ex.execute(envelope(mutations({QJsonObject{{"path", "ok.txt"}, {"contents", "x"}},
                                                         QJsonObject{{"path", "../escape.txt"}, {"contents", "x"}}})),
                                     "x3");
        QCOMPARE(o.status, QString("rejected"));
        QCOMPARE(o.error.code, QString("path_outside_workspace"));
        QCOMPARE(TestSupport::readTree(root()), before);
        QVERIFY(!QFile::exists(m_tmp.path() + "/escape.txt"));
    }

    void dryRunPlansOnly()
    {
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root());
        PatchExecutor ex(&ws, CommandRunner());
        const Outcome o = ex.execute(
            envelope(mutations({QJsonObject{{"path", "new.txt"}, {"contents", "n\n"}}}, {{"dry_run", true}})),
            "x4");
        QCOMPARE(o.status, QString("applied"));
        QVERIFY(o.dryRun);
        QCOMPARE(o.files.size(), 1);
        QCOMPARE(TestSupport::readTree(root()), before);
    }

    void failingValidateRollsBack()
    {
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root());
        PatchExecutor ex(&ws, CommandRunner({true, {}, 5000, 4096}));
        const Outcome o = ex.execute(
            envelope(mutations({QJsonObject{{"path", "a.txt"}, {"contents", "broken\n"}}},
                               {{"validate", QJsonObject{{"shell", QJsonArray{"grep -q one a.txt || { echo 'one is missing'; exit 1; }"}}}}})),
            "x5");
        QCOMPARE(o.status, QString("failed"));
        QCOMPARE(o.error.code, QString("validate_failed"));
        QVERIFY(o.output.contains("one is missing"));
        QCOMPARE(TestSupport::readTree(root()), before);
    }

    void passingValidateKeepsChange()
    {
        Workspace ws(root());
        PatchExecutor ex(&ws, CommandRunner({true, {}, 5000, 4096}));
        const Outcome o = ex.execute(
            envelope(mutations({QJsonObject{{"path", "a.txt"}, {"contents", "one again\n"}}},
                               {{"validate", QJsonObject{{"shell", QJsonArray{"grep one a.txt"}}}}})),
            "x6");
        QCOMPARE(o.status, QString("applied"));
        QVERIFY(o.output.contains("one again"));
        ws.finalize("x6");
        QCOMPARE(TestSupport::readFile(root() + "/a.txt"), QByteArray("one again\n"));
    }

    void commandsOffRejectsBeforeWriting()
    {
        const Tree before = TestSupport::readTree(root());
        Workspace ws(root());
        PatchExecutor ex(&ws, CommandRunner());
        const Outcome o = ex.execute(
            envelope(mutations({QJsonObject{{"path", "a.txt"}, {"contents", "x\n"}}},
                               {{"postMutationBuild", QJsonObject{{"shell", QJsonArray{"make"}}}}})),
            "x7");
        QCOMPARE(o.status, QString("rejected"));
        QCOMPARE(o.error.code, QString("command_not_allowed"));
        QCOMPARE(TestSupport::readTree(root()), before);
    }

    void commandPatchRunsWhenAllowed()
    {
        Workspace ws(root());
        PatchExecutor allowed(&ws, CommandRunner({true, {}, 5000, 4096}));
        const Envelope e = envelope(QJsonObject{{"id", "c"}, {"role", "command_patch"}, {"patch", "echo made > made.txt; echo done"}});
        const Outcome o = allowed.execute(e, "x8");
        QCOMPARE(o.status, QString("applied"));
        QVERIFY(o.output.contains("done"));
        QCOMPARE(TestSupport::readFile(root() + "/made.txt"), QByteArray("made\n"));
        PatchExecutor off(&ws, CommandRunner());
        QCOMPARE(off.execute(e, "x9").status, QString("rejected"));
    }
};

QTEST_GUILESS_MAIN(tst_PatchExecutor)
#include "tst_patchexecutor.moc"
