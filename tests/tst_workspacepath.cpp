#include "workspacepath.h"

#include <QTest>

class tst_WorkspacePath : public QObject
{
    Q_OBJECT
private slots:
    void normalize_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected"); // clean path, or "!code" for a refusal
        QTest::newRow("plain") << "a.txt"
                               << "a.txt";
        QTest::newRow("nested") << "src/lib/a.c"
                                << "src/lib/a.c";
        QTest::newRow("dot segments") << "./src/./a.c"
                                      << "src/a.c";
        QTest::newRow("double slash") << "src//a.c"
                                      << "src/a.c";
        QTest::newRow("backslashes") << "src\\a.c"
                                     << "src/a.c";
        QTest::newRow("absolute inside") << "/ws/root/src/a.c"
                                         << "src/a.c";
        QTest::newRow("dotdot") << "../etc/passwd"
                                << "!path_outside_workspace";
        QTest::newRow("inner dotdot") << "src/../../x"
                                      << "!path_outside_workspace";
        QTest::newRow("absolute outside") << "/etc/passwd"
                                          << "!path_outside_workspace";
        QTest::newRow("root prefix trick") << "/ws/rootkit/a"
                                           << "!path_outside_workspace";
        QTest::newRow("home") << "~/.bashrc"
                              << "!path_outside_workspace";
        QTest::newRow("windows drive") << "C:/x"
                                       << "!path_outside_workspace";
        QTest::newRow("nul") << QString::fromUtf8("a\0b", 3) << "!path_invalid";
        QTest::newRow("newline") << "a\nb"
                                 << "!path_invalid";
        QTest::newRow("empty") << ""
                               << "!path_invalid";
        QTest::newRow("only dots") << "./."
                                   << "!path_invalid";
        QTest::newRow("git dir") << ".git/config"
                                 << "!path_outside_workspace";
        QTest::newRow("git dir case") << ".GIT/hooks/pre-commit"
                                      << "!path_outside_workspace";
        QTest::newRow("gitignore ok") << ".gitignore"
                                      << ".gitignore";
        QTest::newRow("nested git dir") << "vendor/lib/.git/hooks/post-checkout"
                                        << "!path_outside_workspace";
        QTest::newRow("git-like name ok") << "docs/.github/x.yml"
                                          << "docs/.github/x.yml";
        QTest::newRow("absolute root itself") << "/ws/root"
                                              << "!path_invalid";
        QTest::newRow("absolute root, trailing slash") << "/ws/root/"
                                                       << "!path_invalid";
    }
    void normalize()
    {
        QFETCH(QString, path);
        QFETCH(QString, expected);
        const Result<QString> r = WorkspacePath::normalize(path, "/ws/root");
        if (expected.startsWith('!')) {
            QVERIFY2(!r.ok(), qPrintable(path));
            QCOMPARE(r.error().code, expected.mid(1));
            QVERIFY(!r.error().message.isEmpty());
        } else {
            QVERIFY2(r.ok(), qPrintable(r.error().message));
            QCOMPARE(r.value(), expected);
        }
    }
    void gitAllowedWhenConfigured()
    {
        QVERIFY(WorkspacePath::normalize(".git/config", "/ws", true).ok());
    }
};

QTEST_GUILESS_MAIN(tst_WorkspacePath)
#include "tst_workspacepath.moc"
