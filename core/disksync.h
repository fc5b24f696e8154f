#pragma once
// Flushing a file's data to the disk itself, the one way per platform: fdatasync on Linux;
// F_FULLFSYNC on macOS, where fsync stops at the drive's cache. Safe from any thread.

#include <fcntl.h>
#include <unistd.h>

inline bool flushToDisk(int fd)
{
#ifdef __APPLE__
    return ::fcntl(fd, F_FULLFSYNC) == 0;
#else
    return ::fdatasync(fd) == 0;
#endif
}
