// The configuration's two descriptions stay in step with the code: the example file that packages
// install and docs/configuration.md each name every key Config knows, in its section, and nothing
// else; the example loads without errors or warnings.

#include "config.h"
#include "testsupport.h"

#include <QRegularExpression>
#include <QSet>
#include <QTest>

namespace {
const QString kSource = QStringLiteral(GR_TEST_DATA "/../..");

QSet<QString> known()
{
    const QStringList keys = Config::knownKeys();
    return QSet<QString>(keys.begin(), keys.end());
}

QString diff(const QSet<QString> &actual, const QSet<QString> &expected)
{
    QStringList missing = (expected - actual).values();
    QStringList extra = (actual - expected).values();
    missing.sort();
    extra.sort();
    return QStringLiteral("missing: %1; not a key: %2").arg(missing.join(", "), extra.join(", "));
}
} // namespace

class tst_ConfigDocs : public QObject
{
    Q_OBJECT

private slots:
    void exampleLoadsCleanly()
    {
        Config c;
        const Status s = c.loadFile(kSource + "/resources/ghost-runner.ini.example");
        QVERIFY2(s.ok(), s.ok() ? "" : qPrintable(s.error().message));
        QVERIFY2(c.warnings.isEmpty(), qPrintable(c.warnings.join('\n')));
    }

    void exampleNamesEveryKey()
    {
        // "key = value" or ";key = value" (commented out, with its default or an example).
        static const QRegularExpression section(QStringLiteral("^\\[(\\w+)\\]"));
        static const QRegularExpression key(QStringLiteral("^;?(\\w+) = "));
        QSet<QString> keys;
        QString current;
        const QByteArray text =
            TestSupport::readFile(kSource + "/resources/ghost-runner.ini.example");
        for (const QString &line : QString::fromUtf8(text).split('\n')) {
            if (const auto m = section.match(line); m.hasMatch())
                current = m.captured(1);
            else if (const auto k = key.match(line); k.hasMatch() && !current.isEmpty())
                keys.insert(current + '.' + k.captured(1));
        }
        QVERIFY2(keys == known(), qPrintable(diff(keys, known())));
    }

    void documentationDescribesEveryKey()
    {
        // "### `[server]`" then table rows "| `key` | default | meaning |".
        static const QRegularExpression section(QStringLiteral("^### `\\[(\\w+)\\]`"));
        static const QRegularExpression row(QStringLiteral("^\\| `(\\w+)` \\| [^|]+ \\| \\S"));
        QSet<QString> keys;
        QString current;
        const QByteArray text = TestSupport::readFile(kSource + "/docs/configuration.md");
        QVERIFY(!text.isEmpty());
        for (const QString &line : QString::fromUtf8(text).split('\n')) {
            if (const auto m = section.match(line); m.hasMatch())
                current = m.captured(1);
            else if (line.startsWith("## "))
                current.clear();
            else if (const auto r = row.match(line); r.hasMatch() && !current.isEmpty())
                keys.insert(current + '.' + r.captured(1));
        }
        QVERIFY2(keys == known(), qPrintable(diff(keys, known())));
    }
};

QTEST_GUILESS_MAIN(tst_ConfigDocs)
#include "tst_configdocs.moc"
