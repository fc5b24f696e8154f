#include "patcharchive.h"

#include <QFile>
#include <QLoggingCategory>

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

Q_LOGGING_CATEGORY(lcArchive, "ghostrunner.archive")

PatchArchive::PatchArchive(QString directory)
    : m_dir(std::move(directory)), m_thread([this] { loop(); })
{}

PatchArchive::~PatchArchive()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

QString PatchArchive::pathFor(const QString &deliveryId) const
{
    return m_dir + QLatin1Char('/') + deliveryId + QStringLiteral(".json");
}

bool PatchArchive::write(const QString &deliveryId, const QByteArray &body)
{
    QFile copy(pathFor(deliveryId));
    if (copy.open(QIODevice::WriteOnly) && copy.write(body) == body.size())
        return true;
    qCWarning(lcArchive, "cannot write the readable copy %s: %s", qPrintable(copy.fileName()),
              qPrintable(copy.errorString()));
    return false;
}

void PatchArchive::save(const QString &deliveryId, const QByteArray &body)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        const qint64 cost = body.size() + kOverheadBytes;
        if (m_waitingBytes + cost <= kMaxPendingBytes) {
            m_waiting.push_back({deliveryId, body});
            m_waitingBytes += cost;
            m_wake.notify_one();
            return;
        }
    }
    const bool ok = write(deliveryId, body); // back-pressure: the caller writes this one
    std::lock_guard<std::mutex> lock(m_mutex);
    m_failures += ok ? 0 : 1;
}

void PatchArchive::flush()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_drained.wait(lock, [this] { return m_waiting.empty() && !m_writing; });
}

qint64 PatchArchive::failures() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_failures;
}

void PatchArchive::loop()
{
#ifdef __linux__
    // The copies are a convenience: they get the CPU only when nothing else wants it, so a
    // flood's intake is not slowed by them (creating a file is far from free on ext4).
    pthread_setname_np(pthread_self(), "gr-archive");
    sched_param idle{};
    sched_setscheduler(0, SCHED_IDLE, &idle);
#endif
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stop || !m_waiting.empty(); });
        if (m_waiting.empty()) // stopping, and everything is written
            return;
        std::deque<Copy> batch;
        batch.swap(m_waiting);
        m_writing = true;
        lock.unlock();
        qint64 failed = 0;
        qint64 bytes = 0;
        for (const Copy &c : batch) {
            failed += write(c.id, c.body) ? 0 : 1;
            bytes += c.body.size() + kOverheadBytes;
        }
        lock.lock();
        m_waitingBytes -= bytes; // counted until written, for save()'s bound
        m_failures += failed;
        m_writing = false;
        if (m_waiting.empty())
            m_drained.notify_all();
    }
}
