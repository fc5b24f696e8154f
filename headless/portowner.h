#pragma once
// Which process listens on a TCP port: /proc on Linux, lsof on macOS.

#include <QString>
#include <optional>

struct PortOwnerInfo
{
    qint64 pid = 0;
    QString name; // process name (comm)
    QString commandLine;
};

class PortOwner
{
public:
    static std::optional<PortOwnerInfo> find(quint16 port);
};
