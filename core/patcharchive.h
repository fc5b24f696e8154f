#pragma once
// STATE/patches/<delivery>.json: the readable copy of each body received, written on a thread
// of its own (at idle priority on Linux) so that intake answers once the journal, which holds
// the durable copy, has it, without also creating a file per request. Copies are written in
// order of save(); flush() waits for them. Past kMaxPendingBytes waiting, save() writes on the
// caller's thread instead, so a flood cannot pile bodies up in memory.

#include <QByteArray>
#include <QString>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

class PatchArchive
{
public:
    explicit PatchArchive(QString directory);
    ~PatchArchive(); // writes what is waiting, then stops
    PatchArchive(const PatchArchive &) = delete;
    PatchArchive &operator=(const PatchArchive &) = delete;

    QString pathFor(const QString &deliveryId) const;
    void save(const QString &deliveryId, const QByteArray &body);
    // Returns once every copy saved so far is written.
    void flush();
    // Copies that could not be written (a full disk, say), for /health; 0 normally.
    qint64 failures() const;

    static constexpr qint64 kMaxPendingBytes = 16 * 1024 * 1024;
    static constexpr qint64 kOverheadBytes = 256; // per waiting copy: its id, the queue entry

private:
    bool write(const QString &deliveryId, const QByteArray &body);
    void loop();

    struct Copy
    {
        QString id;
        QByteArray body;
    };
    const QString m_dir;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_drained;
    std::deque<Copy> m_waiting;
    qint64 m_waitingBytes = 0;
    bool m_writing = false;
    bool m_stop = false;
    qint64 m_failures = 0;
    std::thread m_thread;
};
