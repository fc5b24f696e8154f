#include "retrypolicy.h"

#include <algorithm>
#include <cmath>

qint64 RetryPolicy::delayMs(int attempt, qint64 retryAfterMs,
                            const std::function<double()> &random) const
{
    if (retryAfterMs >= 0)
        return retryAfterMs; // the server knows best when it will be ready
    const double exp = std::ldexp(double(m_s.initialMs), std::clamp(attempt - 1, 0, 40));
    const double cap = std::min<double>(m_s.maxMs, exp);
    return qint64(cap * std::clamp(random(), 0.0, 1.0));
}

bool RetryPolicy::mayRetry(int attempts, qint64 ageMs) const
{
    return attempts < m_s.maxAttempts && ageMs < m_s.maxAgeMs;
}
