#include "patcharchive.h"

#include "memoryrelease.h"

#include <QFile>
#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

Q_LOGGING_CATEGORY(lcArchive, "ghostrunner.archive")

PatchArchive::PatchArchive(QString directory, QString journalPath, qint64 newestSeq)
    : m_dir(std::move(directory)), m_journalPath(std::move(journalPath)), m_target(newestSeq),
      m_thread([this] { loop(); })
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

void PatchArchive::copyUpTo(qint64 seq)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (seq <= m_target)
            return;
        m_target = seq;
    }
    m_wake.notify_one();
}

void PatchArchive::flush()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_drained.wait(lock, [this] { return m_done >= m_target; });
}

qint64 PatchArchive::failures() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_failures;
}

void PatchArchive::loop()
{
#ifdef __linux__
    pthread_setname_np(pthread_self(), "gr-archive");
    sched_param idle{};
    sched_setscheduler(0, SCHED_IDLE, &idle);
#endif
    const QString name = QStringLiteral("gr-archive-%1").arg(quintptr(this), 0, 16);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(m_journalPath);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        const bool open = db.open();
        if (!open)
            qCWarning(lcArchive, "cannot read the journal %s for readable copies: %s",
                      qPrintable(m_journalPath), qPrintable(db.lastError().text()));
        QSqlQuery bodies(db);
        if (open) // it reads each body once, in order: a small cache is all it needs
            bodies.exec(QStringLiteral("PRAGMA cache_size=-64"));
        bodies.setForwardOnly(true);
        bodies.prepare(QStringLiteral("SELECT seq, id, body FROM deliveries WHERE seq > ? AND "
                                      "seq <= ? ORDER BY seq LIMIT ?"));

        // Resume: the newest deliveries whose copy is missing (a crash, a stop) come first.
        qint64 resumeFrom = 0;
        {
            QSqlQuery newest(db);
            newest.setForwardOnly(true);
            if (open && newest.exec(QStringLiteral("SELECT seq, id FROM deliveries ORDER BY seq "
                                                   "DESC LIMIT %1")
                                        .arg(kResumeWindow))) {
                qint64 oldestLooked = 0;
                int looked = 0;
                while (newest.next()) {
                    const qint64 seq = newest.value(0).toLongLong();
                    if (QFile::exists(pathFor(newest.value(1).toString()))) {
                        resumeFrom = seq;
                        break;
                    }
                    oldestLooked = seq;
                    ++looked;
                }
                if (resumeFrom == 0 && looked == kResumeWindow)
                    resumeFrom = oldestLooked - 1;
            }
        }
        std::unique_lock<std::mutex> lock(m_mutex);
        m_done = resumeFrom;
        bool holding = false; // SQLite cache and heap used since the last release
        for (;;) {
            if (m_done >= m_target)
                m_drained.notify_all();
            const auto hasWork = [this] { return m_stop || m_done < m_target; };
            // Quiet for a second after a burst: give the cache's pages back (as the engine
            // does for its own), so that memory after a flood returns to where it was.
            if (holding && !m_wake.wait_for(lock, kReleaseAfter, hasWork)) {
                lock.unlock();
                if (open)
                    QSqlQuery(db).exec(QStringLiteral("PRAGMA shrink_memory"));
                releaseFreeHeap();
                lock.lock();
                holding = false;
            }
            m_wake.wait(lock, hasWork);
            if (m_stop)
                break;
            holding = true;
            const qint64 from = m_done;
            const qint64 to = m_target;
            lock.unlock();
            qint64 last = to; // nothing (more) up to `to`: discarded or never there
            qint64 failed = 0;
            bodies.bindValue(0, from);
            bodies.bindValue(1, to);
            bodies.bindValue(2, kBatch);
            // The batch is read, and the read transaction ended, before any file is written:
            // a reader that stays in the journal keeps the writer's checkpoints from resetting
            // the write-ahead log, which then grows for as long as a flood lasts (and with it
            // the WAL index every connection maps).
            QList<std::pair<QString, QByteArray>> batch;
            if (open && bodies.exec()) {
                qint64 seq = from;
                qsizetype bytes = 0;
                while (bodies.next()) {
                    seq = bodies.value(0).toLongLong();
                    batch.append({bodies.value(1).toString(), bodies.value(2).toByteArray()});
                    bytes += batch.constLast().second.size();
                    if (batch.size() == kBatch || bytes >= kBatchBytes) {
                        last = seq; // more to read
                        break;
                    }
                }
            } else {
                failed += to - from; // every copy in the range is lost
                qCWarning(lcArchive, "cannot read bodies from the journal: %s",
                          qPrintable(bodies.lastError().text()));
            }
            bodies.finish();
            for (const auto &[id, body] : std::as_const(batch))
                failed += write(id, body) ? 0 : 1;
            lock.lock();
            m_done = last;
            m_failures += failed;
        }
        m_done = m_target; // stopping: flush() never waits on a stopped archive
        m_drained.notify_all();
    }
    QSqlDatabase::removeDatabase(name);
}
