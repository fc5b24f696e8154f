#pragma once
// Spreads independent pieces of one step (hunks of many files, writes of a large commit) over a
// few pool threads. The caller's thread works too and never waits for a helper that has not
// started: on a busy machine the step is done by this thread alone rather than held up.

#include <QtGlobal>
#include <functional>

class ParallelFor
{
public:
    // Calls work(i) once for each i in [0, count), in no particular order, and returns when all
    // are done. Helpers are used only with at least minPerThread pieces for each.
    static void run(qsizetype count, const std::function<void(qsizetype)> &work,
                    qsizetype minPerThread = 32);
};
