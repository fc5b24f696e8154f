#include "portowner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSet>

namespace {
#ifdef Q_OS_LINUX
// Socket inodes in LISTEN state (st 0A) on the port, from /proc/net/tcp and tcp6.
QSet<QString> listeningInodes(quint16 port)
{
    QSet<QString> inodes;
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        QFile f(QString::fromLatin1(table));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        f.readLine(); // header
        while (!f.atEnd()) {
            const QList<QByteArray> cols = f.readLine().simplified().split(' ');
            if (cols.size() < 10 || cols[3] != "0A")
                continue;
            const QByteArray local = cols[1];
            bool ok = false;
            const uint p = local.mid(local.indexOf(':') + 1).toUInt(&ok, 16);
            if (ok && p == port)
                inodes.insert(QString::fromLatin1(cols[9]));
        }
    }
    return inodes;
}
#endif
} // namespace

std::optional<PortOwnerInfo> PortOwner::find(quint16 port)
{
#ifdef Q_OS_LINUX
    const QSet<QString> inodes = listeningInodes(port);
    if (inodes.isEmpty())
        return std::nullopt;
    const QStringList pids = QDir("/proc").entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &pid : pids) {
        bool numeric = false;
        pid.toLongLong(&numeric);
        if (!numeric)
            continue;
        const QDir fds("/proc/" + pid + "/fd");
        for (const QString &fd : fds.entryList(QDir::System | QDir::NoDotAndDotDot)) {
            const QString target = QFileInfo(fds.filePath(fd)).symLinkTarget();
            const qsizetype open = target.indexOf("socket:[");
            if (open < 0)
                continue;
            const QString inode = target.mid(open + 8).chopped(1);
            if (!inodes.contains(inode))
                continue;
            PortOwnerInfo info;
            info.pid = pid.toLongLong();
            QFile comm("/proc/" + pid + "/comm");
            if (comm.open(QIODevice::ReadOnly))
                info.name = QString::fromUtf8(comm.readAll().trimmed());
            QFile cmd("/proc/" + pid + "/cmdline");
            if (cmd.open(QIODevice::ReadOnly))
                info.commandLine = QString::fromUtf8(cmd.readAll().replace('\0', ' ').trimmed());
            return info;
        }
    }
    return PortOwnerInfo{}; // held, but by a process we may not inspect
#else
    QProcess lsof;
    lsof.start("lsof", {"-nP", QStringLiteral("-iTCP:%1").arg(port), "-sTCP:LISTEN", "-Fpc"});
    if (!lsof.waitForFinished(5000))
        return std::nullopt;
    PortOwnerInfo info;
    for (const QByteArray &line : lsof.readAllStandardOutput().split('\n')) {
        if (line.startsWith('p'))
            info.pid = line.mid(1).toLongLong();
        else if (line.startsWith('c'))
            info.name = QString::fromUtf8(line.mid(1));
    }
    if (info.pid == 0)
        return std::nullopt;
    return info;
#endif
}
