#pragma once
// When to try a forward again: exponential backoff with full jitter (a random delay between 0
// and min(cap, initial * 2^attempt)), a server's Retry-After when it gives one, and a budget of
// attempts and age past which the delivery is given up as dead.

#include <QtGlobal>
#include <functional>

class RetryPolicy
{
public:
    struct Settings
    {
        int initialMs = 200;
        int maxMs = 30000;
        int maxAttempts = 12;
        qint64 maxAgeMs = 3600 * 1000;
    };

    explicit RetryPolicy(Settings s) : m_s(s) {}
    // attempt is the number of attempts made so far (1 after the first failure). retryAfterMs
    // is the server's Retry-After, or -1. random() returns a value in [0, 1).
    qint64 delayMs(int attempt, qint64 retryAfterMs, const std::function<double()> &random) const;
    // May another attempt start, after `attempts` attempts and `ageMs` since receipt?
    bool mayRetry(int attempts, qint64 ageMs) const;
    const Settings &settings() const { return m_s; }

private:
    Settings m_s;
};
