#include "metrics.h"

namespace {
QByteArray num(double v)
{
    return QByteArray::number(v, 'g', 10);
}

QByteArray escapeLabel(const QString &v)
{
    QByteArray s = v.toUtf8();
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return s;
}

void header(QByteArray &out, const QByteArray &name, const QByteArray &type, const QByteArray &help)
{
    out += "# HELP " + name + ' ' + help + '\n';
    out += "# TYPE " + name + ' ' + type + '\n';
}
} // namespace

void Histogram::observe(double value)
{
    ++m_count;
    m_sum += value;
    for (qsizetype i = 0; i < m_bounds.size(); ++i) {
        if (value <= m_bounds[i]) {
            ++m_counts[i];
            return;
        }
    }
}

void Histogram::write(QByteArray &out, const QByteArray &name, const QByteArray &help) const
{
    header(out, name, "histogram", help);
    quint64 cumulative = 0;
    for (qsizetype i = 0; i < m_bounds.size(); ++i) {
        cumulative += m_counts[i];
        out += name + "_bucket{le=\"" + num(m_bounds[i]) + "\"} " + QByteArray::number(cumulative) +
               '\n';
    }
    out += name + "_bucket{le=\"+Inf\"} " + QByteArray::number(m_count) + '\n';
    out += name + "_sum " + num(m_sum) + '\n';
    out += name + "_count " + QByteArray::number(m_count) + '\n';
}

Metrics::Metrics()
    : m_intakeSeconds({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}),
      m_applySeconds({0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30})
{
    for (const char *s : {"applied", "failed", "rejected", "dead"})
        m_deliveries.insert(QLatin1String(s), 0);
}

void Metrics::deliveryFinished(const QString &status, double applyMs)
{
    ++m_deliveries[status];
    if (applyMs > 0)
        m_applySeconds.observe(applyMs / 1000.0);
}

void Metrics::intakeBatch(qsizetype deliveries)
{
    ++m_intakeCommits;
    m_intakeCommitted += quint64(deliveries);
}

void Metrics::journalSynced(bool ok)
{
    ++(ok ? m_syncs : m_syncsFailed);
}

void Metrics::intakeAnswered(int httpStatus)
{
    ++m_intake[httpStatus];
}

void Metrics::intakeJournaled(double intakeMs)
{
    m_intakeSeconds.observe(intakeMs / 1000.0);
}

void Metrics::requestRejected(const QString &reason)
{
    ++m_rejected[reason];
}

void Metrics::forwardAttempt(const QString &result)
{
    ++m_forwards[result];
}

QByteArray Metrics::render(const QString &version, const QString &role, const Gauges &g) const
{
    QByteArray out;
    header(out, "ghost_runner_build_info", "gauge", "Version and role of this process (always 1).");
    out += "ghost_runner_build_info{version=\"" + escapeLabel(version) + "\",role=\"" +
           escapeLabel(role) + "\"} 1\n";
    header(out, "ghost_runner_uptime_seconds", "gauge", "Seconds since the engine started.");
    out += "ghost_runner_uptime_seconds " + QByteArray::number(g.uptimeS) + '\n';
    header(out, "ghost_runner_health_status", "gauge",
           "Overall health: 0 ok, 1 degraded, 2 failing.");
    out += "ghost_runner_health_status " + QByteArray::number(g.health) + '\n';
    header(out, "ghost_runner_paused", "gauge", "1 while applying is paused.");
    out += "ghost_runner_paused " + QByteArray(g.paused ? "1" : "0") + '\n';

    header(out, "ghost_runner_deliveries_total", "counter",
           "Deliveries finished since start, by final status.");
    for (auto it = m_deliveries.constBegin(); it != m_deliveries.constEnd(); ++it)
        out += "ghost_runner_deliveries_total{status=\"" + escapeLabel(it.key()) + "\"} " +
               QByteArray::number(it.value()) + '\n';
    header(out, "ghost_runner_journal_deliveries", "gauge",
           "Deliveries in the journal, by current status.");
    QStringList statuses = g.journalByStatus.keys();
    statuses.sort();
    for (const QString &s : statuses)
        out += "ghost_runner_journal_deliveries{status=\"" + escapeLabel(s) + "\"} " +
               QByteArray::number(g.journalByStatus.value(s)) + '\n';
    header(out, "ghost_runner_queue_depth", "gauge",
           "Deliveries journaled but not finished (waiting or in progress).");
    out += "ghost_runner_queue_depth " + QByteArray::number(g.pending) + '\n';
    header(out, "ghost_runner_oldest_pending_age_seconds", "gauge",
           "Age of the oldest unfinished delivery, 0 when none.");
    out +=
        "ghost_runner_oldest_pending_age_seconds " + QByteArray::number(g.oldestPendingAgeS) + '\n';
    header(out, "ghost_runner_open_connections", "gauge", "Open HTTP connections.");
    out += "ghost_runner_open_connections " + QByteArray::number(g.openConnections) + '\n';

    header(out, "ghost_runner_intake_responses_total", "counter",
           "Answers to POST /webhook and /patch, by HTTP status (with ?wait: the status the "
           "answer finally had).");
    for (auto it = m_intake.constBegin(); it != m_intake.constEnd(); ++it)
        out += "ghost_runner_intake_responses_total{code=\"" + QByteArray::number(it.key()) +
               "\"} " + QByteArray::number(it.value()) + '\n';
    header(out, "ghost_runner_intake_commits_total", "counter",
           "Journal transactions of the HTTP intake; several requests share one.");
    out += "ghost_runner_intake_commits_total " + QByteArray::number(m_intakeCommits) + '\n';
    header(out, "ghost_runner_intake_committed_requests_total", "counter",
           "Intake requests journaled by those transactions.");
    out += "ghost_runner_intake_committed_requests_total " + QByteArray::number(m_intakeCommitted) +
           '\n';
    header(out, "ghost_runner_intake_syncs_total", "counter",
           "Flushes of the journal to disk that made intake commits durable (one covers every "
           "commit before it), by result.");
    out += "ghost_runner_intake_syncs_total{result=\"ok\"} " + QByteArray::number(m_syncs) + '\n';
    out += "ghost_runner_intake_syncs_total{result=\"failed\"} " +
           QByteArray::number(m_syncsFailed) + '\n';
    header(out, "ghost_runner_rejected_requests_total", "counter",
           "Requests refused before intake, by reason.");
    for (auto it = m_rejected.constBegin(); it != m_rejected.constEnd(); ++it)
        out += "ghost_runner_rejected_requests_total{reason=\"" + escapeLabel(it.key()) + "\"} " +
               QByteArray::number(it.value()) + '\n';
    header(out, "ghost_runner_forward_attempts_total", "counter",
           "Relay forwards to the runner, by result.");
    for (auto it = m_forwards.constBegin(); it != m_forwards.constEnd(); ++it)
        out += "ghost_runner_forward_attempts_total{result=\"" + escapeLabel(it.key()) + "\"} " +
               QByteArray::number(it.value()) + '\n';
    m_intakeSeconds.write(out, "ghost_runner_intake_duration_seconds",
                          "From the first byte of an intake request to its delivery durable in "
                          "the journal (the 202), in seconds.");
    m_applySeconds.write(out, "ghost_runner_apply_duration_seconds",
                         "Time to plan, commit and check one patch, in seconds.");
    return out;
}
