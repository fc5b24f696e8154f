// What a patch planner may know about the files it patches, as one contract over both sources:
// MemoryFileSource (pure planner tests) and Workspace (the disk). The same table runs against
// each, so a planner tested in memory meets the same answers on disk.

#include "filesource.h"
#include "testsupport.h"
#include "workspace.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace {
// The tree both sources hold.
const QMap<QString, QByteArray> kTree = {
    {"README.md", "# readme\n"},        {"src/a.c", "int a;\n"},       {"src/empty.txt", ""},
    {"src/deep/b.h", "#pragma once\n"}, {"bin/run.sh", "#!/bin/sh\n"}, {"spaced name.txt", "x"},
};
} // namespace

class tst_FileSource : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<MemoryFileSource> m_memory;
    std::unique_ptr<Workspace> m_disk;

    QString root() const { return m_disk->root(); }
    const FileSource &source(const QString &name) const
    {
        if (name == QLatin1String("memory"))
            return *m_memory;
        return *m_disk;
    }
    static void bothSources(const char *name, const std::function<void(QTestData &)> &fill)
    {
        for (const char *s : {"memory", "disk"})
            fill(QTest::addRow("%s: %s", s, name) << QString::fromLatin1(s));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString ws = m_dir.filePath("ws");
        QVERIFY(QDir().mkpath(ws));
        TestSupport::writeTree(ws, kTree);
        for (const QString &f : kTree.keys()) // whatever the umask
            QCOMPARE(::chmod(QFile::encodeName(ws + '/' + f).constData(), 0644), 0);
        QCOMPARE(::chmod(QFile::encodeName(ws + "/bin/run.sh").constData(), 0755), 0);
        m_disk = std::make_unique<Workspace>(ws);
        m_memory = std::make_unique<MemoryFileSource>(kTree);
        m_memory->setFile("bin/run.sh", kTree.value("bin/run.sh"), 0755);
        // Only on disk: links that stay inside, lead out, lead into .git, or lead nowhere.
        QVERIFY(QDir().mkpath(m_dir.filePath("outside")));
        QVERIFY(TestSupport::writeFile(m_dir.filePath("outside/secret.txt"), "secret"));
        QVERIFY(QDir().mkpath(ws + "/.git"));
        QVERIFY(TestSupport::writeFile(ws + "/.git/config", "[core]\n"));
        QVERIFY(QFile::link("src/a.c", ws + "/link-in.c"));
        QVERIFY(QFile::link("src", ws + "/srclink"));
        QVERIFY(QFile::link(m_dir.filePath("outside"), ws + "/out"));
        QVERIFY(QFile::link("../outside/secret.txt", ws + "/secret-link"));
        QVERIFY(QFile::link(".git", ws + "/gitlink"));
        QVERIFY(QFile::link("nowhere", ws + "/dangling"));
    }

    void normalize_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected"); // empty: refused
        QTest::addColumn<QString>("code");
        const auto accept = [](const char *name, const QString &path, const QString &clean) {
            bothSources(name, [&](QTestData &row) { row << path << clean << QString(); });
        };
        const auto refuse = [](const char *name, const QString &path, const char *code) {
            bothSources(name, [&](QTestData &row) { row << path << QString() << QString(code); });
        };
        accept("plain", "src/a.c", "src/a.c");
        accept("dot segments", "./src/./a.c", "src/a.c");
        accept("doubled slashes", "src//deep///b.h", "src/deep/b.h");
        accept("trailing slash", "src/a.c/", "src/a.c");
        accept("backslashes", "src\\deep\\b.h", "src/deep/b.h");
        accept("not there yet", "new/dir/file.txt", "new/dir/file.txt");
        accept("spaces", "spaced name.txt", "spaced name.txt");
        accept("dots inside a name", "a..b/c...d", "a..b/c...d");
        accept("unicode", QString::fromUtf8("doc/naïve-日本.md"),
               QString::fromUtf8("doc/naïve-日本.md"));
        refuse("empty", "", "path_invalid");
        refuse("only dots", "./.", "path_invalid");
        refuse("NUL byte", QString("a") + QChar(0) + "b", "path_invalid");
        refuse("newline", "a\nb", "path_invalid");
        refuse("parent", "../x", "path_outside_workspace");
        refuse("parent in the middle", "src/../../x", "path_outside_workspace");
        refuse("parent that stays inside is still refused", "src/../a.c", "path_outside_workspace");
        refuse("home", "~/x", "path_outside_workspace");
        refuse("absolute elsewhere", "/etc/passwd", "path_outside_workspace");
        refuse("drive letter", "C:/Windows/x", "path_outside_workspace");
        refuse(".git", ".git/config", "path_outside_workspace");
        refuse("nested .GIT", "sub/.GIT/hooks/pre-commit", "path_outside_workspace");
    }
    void normalize()
    {
        QFETCH(QString, source);
        QFETCH(QString, path);
        QFETCH(QString, expected);
        QFETCH(QString, code);
        const Result<QString> r = this->source(source).normalize(path);
        if (expected.isEmpty()) {
            QVERIFY2(!r.ok(), qPrintable("accepted as " + (r.ok() ? *r : QString())));
            QCOMPARE(r.error().code, code);
            QVERIFY(!r.error().message.isEmpty());
            QVERIFY2(!r.error().message.contains(QChar(0)), "a NUL reached the message");
        } else {
            QVERIFY2(r.ok(), qPrintable(r.error().message));
            QCOMPARE(*r, expected);
        }
    }

    void absolutePathInsideTheRoot()
    {
        // Only the disk has a root; in memory every absolute path is outside.
        const Result<QString> disk = m_disk->normalize(root() + "/src/a.c");
        QVERIFY2(disk.ok(), qPrintable(disk.error().message));
        QCOMPARE(*disk, QString("src/a.c"));
        const Result<QString> itself = m_disk->normalize(root());
        QVERIFY(!itself.ok());
        QCOMPARE(itself.error().code, QString("path_invalid"));
        const Result<QString> sibling = m_disk->normalize(root() + "-other/a.c");
        QVERIFY(!sibling.ok());
        QCOMPARE(sibling.error().code, QString("path_outside_workspace"));
        QCOMPARE(m_memory->normalize(root() + "/src/a.c").error().code,
                 QString("path_outside_workspace"));
    }

    void symlinksOnDisk_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code"); // empty: accepted
        QTest::newRow("link to a file inside") << "link-in.c" << QString();
        QTest::newRow("through a directory link inside") << "srclink/deep/b.h" << QString();
        QTest::newRow("link to a directory outside") << "out/secret.txt"
                                                     << "path_outside_workspace";
        QTest::newRow("new file under a link outside") << "out/new.txt"
                                                       << "path_outside_workspace";
        QTest::newRow("link to a file outside") << "secret-link"
                                                << "path_outside_workspace";
        QTest::newRow("link into .git") << "gitlink/config"
                                        << "path_outside_workspace";
        QTest::newRow("dangling link") << "dangling"
                                       << "path_outside_workspace";
    }
    void symlinksOnDisk()
    {
        QFETCH(QString, path);
        QFETCH(QString, code);
        const Result<QString> n = m_disk->normalize(path);
        const Result<FileState> r = m_disk->read(path);
        if (code.isEmpty()) {
            QVERIFY2(n.ok(), qPrintable(n.error().message));
            QVERIFY2(r.ok(), qPrintable(r.error().message));
            QVERIFY(r->exists);
        } else {
            QCOMPARE(n.error().code, code);
            QVERIFY(n.error().message.contains("symlink"));
            // Reading goes through the same check: nothing outside is ever read.
            QVERIFY(!r.ok());
            QCOMPARE(r.error().code, code);
        }
    }

    void read_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("exists");
        QTest::addColumn<QByteArray>("contents");
        QTest::addColumn<int>("mode");
        const auto row = [](const char *name, const char *path, bool exists,
                            const QByteArray &contents, int mode) {
            bothSources(name, [&](QTestData &r) {
                r << QString::fromUtf8(path) << exists << contents << mode;
            });
        };
        row("file", "src/a.c", true, "int a;\n", 0644);
        row("nested file", "src/deep/b.h", true, "#pragma once\n", 0644);
        row("empty file exists", "src/empty.txt", true, "", 0644);
        row("executable keeps its mode", "bin/run.sh", true, "#!/bin/sh\n", 0755);
        row("missing is not an error", "src/missing.c", false, "", 0644);
        row("under a missing directory", "nope/x/y", false, "", 0644);
        row("under a file", "src/a.c/x", false, "", 0644);
    }
    void read()
    {
        QFETCH(QString, source);
        QFETCH(QString, path);
        QFETCH(bool, exists);
        QFETCH(QByteArray, contents);
        QFETCH(int, mode);
        const Result<FileState> r = this->source(source).read(path);
        QVERIFY2(r.ok(), qPrintable(r.error().message));
        QCOMPARE(r->exists, exists);
        QCOMPARE(r->contents, contents);
        if (exists)
            QCOMPARE(r->mode, mode);
    }

    void directoryIsNotAFile_data()
    {
        QTest::addColumn<QString>("source");
        bothSources("directory", [](QTestData &r) { Q_UNUSED(r); });
    }
    void directoryIsNotAFile()
    {
        // A planner that took a directory for a missing file would plan to create it.
        QFETCH(QString, source);
        const Result<FileState> r = this->source(source).read("src/deep");
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QString("path_invalid"));
        QCOMPARE(r.error().file, QString("src/deep"));
        QVERIFY(r.error().message.contains("not a regular file"));
    }

    void specialFileOnDiskIsNotRead()
    {
        const QString fifo = root() + "/pipe";
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0644), 0);
        const Result<FileState> r = m_disk->read("pipe"); // must not block on open()
        ::unlink(QFile::encodeName(fifo).constData());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QString("path_invalid"));
    }

    void unreadableFileOnDisk()
    {
        if (::geteuid() == 0)
            QSKIP("root reads any file");
        const QString path = root() + "/locked.txt";
        QVERIFY(TestSupport::writeFile(path, "locked"));
        QVERIFY(QFile::setPermissions(path, {}));
        const Result<FileState> r = m_disk->read("locked.txt");
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
        QFile::remove(path);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QString("read_failed"));
        QCOMPARE(r.error().file, QString("locked.txt"));
    }

    void diskReadsWhatIsThereNow()
    {
        const QString path = root() + "/changing.txt";
        QVERIFY(TestSupport::writeFile(path, "one"));
        QCOMPARE(m_disk->read("changing.txt")->contents, QByteArray("one"));
        QVERIFY(TestSupport::writeFile(path, "two"));
        QCOMPARE(m_disk->read("changing.txt")->contents, QByteArray("two"));
        QFile::remove(path);
        QVERIFY(!m_disk->read("changing.txt")->exists);
    }

    void memorySetFileAddsAndReplaces()
    {
        MemoryFileSource m;
        QVERIFY(!m.read("a.txt")->exists);
        m.setFile("a.txt", "one");
        QCOMPARE(m.read("a.txt")->contents, QByteArray("one"));
        QCOMPARE(m.read("a.txt")->mode, 0644);
        m.setFile("a.txt", "two", 0600);
        QCOMPARE(m.read("a.txt")->contents, QByteArray("two"));
        QCOMPARE(m.read("a.txt")->mode, 0600);
        // Lookups are exact: reading takes a normalized path, as the interface says.
        QVERIFY(!m.read("./a.txt")->exists);
        QVERIFY(!m.read("A.txt")->exists);
    }

    void memoryHasNoGitException()
    {
        MemoryFileSource m({{".git/config", "x"}});
        QCOMPARE(m.normalize(".git/config").error().code, QString("path_outside_workspace"));
    }
};

QTEST_GUILESS_MAIN(tst_FileSource)
#include "tst_filesource.moc"
