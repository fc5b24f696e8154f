#pragma once
// Gives the heap's free pages back to the system (glibc keeps them otherwise), so that RSS
// after a burst returns to where it was. Safe from any thread; a no-op elsewhere.

#ifdef __GLIBC__
#include <malloc.h>
#endif

inline void releaseFreeHeap()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
