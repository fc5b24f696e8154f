#include "parallelfor.h"

#include <QThreadPool>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace {
constexpr qsizetype MaxThreads = 4;

// What the caller and its helpers share; helpers that start late hold it alive themselves.
struct Shared
{
    const std::function<void(qsizetype)> *work = nullptr; // valid while anything is unfinished
    qsizetype count = 0;
    std::atomic<qsizetype> next{0};
    std::atomic<qsizetype> done{0};
    std::mutex mutex;
    std::condition_variable allDone;

    void drain()
    {
        for (qsizetype i = next++; i < count; i = next++) {
            (*work)(i);
            if (++done == count) {
                const std::lock_guard<std::mutex> lock(mutex);
                allDone.notify_all();
            }
        }
    }
};
} // namespace

void ParallelFor::run(qsizetype count, const std::function<void(qsizetype)> &work,
                      qsizetype minPerThread)
{
    QThreadPool *pool = QThreadPool::globalInstance();
    const qsizetype threads =
        std::min<qsizetype>({qsizetype(std::max(1, pool->maxThreadCount())), MaxThreads,
                             count / std::max<qsizetype>(1, minPerThread)});
    if (threads <= 1) {
        for (qsizetype i = 0; i < count; ++i)
            work(i);
        return;
    }
    const auto shared = std::make_shared<Shared>();
    shared->work = &work;
    shared->count = count;
    for (qsizetype t = 1; t < threads; ++t)
        pool->start([shared] { shared->drain(); });
    shared->drain();
    // Only pieces a helper has taken and not finished are waited for.
    std::unique_lock<std::mutex> lock(shared->mutex);
    shared->allDone.wait(lock, [&] { return shared->done.load() == count; });
}
