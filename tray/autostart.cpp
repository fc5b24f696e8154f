#include "autostart.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

QString Autostart::entryPath()
{
#ifdef Q_OS_MACOS
    return QDir::homePath() + QStringLiteral("/Library/LaunchAgents/org.ghostrunner.tray.plist");
#else
    QString base = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.config");
    return base + QStringLiteral("/autostart/ghost-runner-tray.desktop");
#endif
}

bool Autostart::isEnabled()
{
    return QFileInfo::exists(entryPath());
}

QString Autostart::entryText(const QString &program, const QStringList &arguments)
{
#ifdef Q_OS_MACOS
    QString args = QStringLiteral("    <string>%1</string>\n").arg(program.toHtmlEscaped());
    for (const QString &a : arguments)
        args += QStringLiteral("    <string>%1</string>\n").arg(a.toHtmlEscaped());
    return QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                          "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
                          "<plist version=\"1.0\">\n<dict>\n"
                          "  <key>Label</key><string>org.ghostrunner.tray</string>\n"
                          "  <key>ProgramArguments</key>\n  <array>\n%1  </array>\n"
                          "  <key>RunAtLoad</key><true/>\n"
                          "  <key>ProcessType</key><string>Interactive</string>\n"
                          "</dict>\n</plist>\n")
        .arg(args);
#else
    auto quote = [](const QString &s) {
        if (!s.contains(QLatin1Char(' ')) && !s.contains(QLatin1Char('"')))
            return s;
        return QStringLiteral("\"%1\"").arg(
            QString(s).replace(QLatin1String("\""), QLatin1String("\\\"")));
    };
    QStringList exec{quote(program)};
    for (const QString &a : arguments)
        exec << quote(a);
    return QStringLiteral("[Desktop Entry]\nType=Application\nName=Ghost Runner\n"
                          "Comment=Receives code patches and shows whether they arrive\n"
                          "Exec=%1\nIcon=ghost-runner\nTerminal=false\n"
                          "X-GNOME-Autostart-enabled=true\n")
        .arg(exec.join(QLatin1Char(' ')));
#endif
}

Status Autostart::setEnabled(bool enabled, const QString &program, const QStringList &arguments)
{
    const QString path = entryPath();
    if (!enabled) {
        if (QFileInfo::exists(path) && !QFile::remove(path))
            return makeError("autostart_failed", QStringLiteral("cannot remove %1").arg(path));
        return {};
    }
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError("autostart_failed",
                         QStringLiteral("cannot create %1").arg(QFileInfo(path).absolutePath()));
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return makeError("autostart_failed",
                         QStringLiteral("cannot write %1: %2").arg(path, f.errorString()));
    f.write(entryText(program, arguments).toUtf8());
    if (!f.commit())
        return makeError("autostart_failed",
                         QStringLiteral("cannot write %1: %2").arg(path, f.errorString()));
    return {};
}
