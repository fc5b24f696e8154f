#pragma once
// STATE/patches/<delivery>.json: the readable copy of each body received. The journal holds the
// durable copy; this thread writes the readable ones from it, reading bodies by seq on a SQLite
// connection of its own, so that nothing waits in memory for it however far it falls behind (a
// flood's copies are written after the flood, not held). It runs at idle priority on Linux:
// creating a file per delivery is far from free on ext4, and intake comes first.
//
// copyUpTo(seq) says deliveries up to seq are durable in the journal; flush() waits until their
// copies are written. On start it goes back over the newest deliveries whose copy is missing (a
// crash or a stop can leave some) and writes them first.

#include <QString>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

class PatchArchive
{
public:
    PatchArchive(QString directory, QString journalPath, qint64 newestSeq);
    ~PatchArchive(); // stops after the batch in hand; the next start writes what is missing
    PatchArchive(const PatchArchive &) = delete;
    PatchArchive &operator=(const PatchArchive &) = delete;

    QString pathFor(const QString &deliveryId) const;
    void copyUpTo(qint64 seq);
    // Returns once every copy up to the last copyUpTo() is written (or could not be).
    void flush();
    // Copies that could not be written (a full disk, say), for /health; 0 normally.
    qint64 failures() const;

    static constexpr int kBatch = 256;                // deliveries read from the journal at a time
    static constexpr qsizetype kBatchBytes = 1 << 20; // and at most about this many body bytes
    static constexpr int kResumeWindow = 10000; // how far back a start looks for missing copies
    static constexpr std::chrono::seconds kReleaseAfter{1}; // idle this long: memory given back

private:
    bool write(const QString &deliveryId, const QByteArray &body);
    void loop();

    const QString m_dir;
    const QString m_journalPath;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_drained;
    qint64 m_target = 0; // copies wanted up to this seq
    qint64 m_done = -1;  // copies written up to this seq (-1: not resumed yet)
    bool m_stop = false;
    qint64 m_failures = 0;
    std::thread m_thread;
};
