#include "systemdnotifier.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

bool SystemdNotifier::notify(const QByteArray &state)
{
    const char *path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return false;
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    const size_t len = std::strlen(path);
    if (len >= sizeof(addr.sun_path))
        return false;
    std::memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@')
        addr.sun_path[0] = '\0';
#ifdef SOCK_CLOEXEC
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
#endif
    if (fd < 0)
        return false;
    const socklen_t addrLen = socklen_t(offsetof(sockaddr_un, sun_path) + len);
    const ssize_t n = ::sendto(fd, state.constData(), size_t(state.size()), 0,
                               reinterpret_cast<sockaddr *>(&addr), addrLen);
    ::close(fd);
    return n == state.size();
}

int SystemdNotifier::watchdogIntervalMs()
{
    const char *usec = std::getenv("WATCHDOG_USEC");
    if (!usec)
        return 0;
    // As sd_watchdog_enabled(): when WATCHDOG_PID names another process, the watchdog is its
    // (this process inherited the variables, say from a service's start script).
    const char *pid = std::getenv("WATCHDOG_PID");
    if (pid && *pid && std::atoll(pid) != ::getpid())
        return 0;
    const long long v = std::atoll(usec);
    return v > 0 ? int(v / 2000) : 0;
}
