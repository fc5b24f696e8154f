#pragma once
// Flushing a file's data to the disk itself, the one way per platform: fdatasync on Linux;
// F_FULLFSYNC on macOS, where fsync stops at the drive's cache. Safe from any thread.

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

// False with errno set when the disk refused (EIO, ENOSPC, ...); a signal is not a refusal.
inline bool flushToDisk(int fd)
{
    int rc;
    do {
#ifdef __APPLE__
        rc = ::fcntl(fd, F_FULLFSYNC);
#else
        rc = ::fdatasync(fd);
#endif
    } while (rc != 0 && errno == EINTR);
    return rc == 0;
}
