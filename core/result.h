#pragma once
// Failures as values: every fallible call returns a Result carrying either a value or an Error
// with a machine code and one human sentence (STYLE.md: "a failure is a value, not a log line").

#include <QJsonObject>
#include <QString>
#include <optional>
#include <utility>

struct Error
{
    QString code;    // snake_case, stable: clients switch on it
    QString message; // one human sentence that says what and why
    QString file;    // workspace-relative file the error is about, if any
    int hunk = 0;    // 1-based hunk/block number, 0 when not about a hunk
    int line = 0;    // 1-based line of the best near miss, 0 when unknown
    QString detail;  // how the near miss differs, or captured command output

    bool isNull() const { return code.isEmpty(); }
    QJsonObject toJson() const;
    static Error fromJson(const QJsonObject &o);
};

inline Error makeError(QString code, QString message)
{
    Error e;
    e.code = std::move(code);
    e.message = std::move(message);
    return e;
}

template <typename T> class [[nodiscard]] Result
{
public:
    Result(T value) : m_value(std::move(value)) {}
    Result(Error error) : m_error(std::move(error)) {}

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T &value() const & { return *m_value; }
    T &value() & { return *m_value; }
    // By value from a temporary, so `for (x : f().value())` owns what it walks.
    T value() && { return std::move(*m_value); }
    const T *operator->() const { return &*m_value; }
    T *operator->() { return &*m_value; }
    const T &operator*() const { return *m_value; }
    const Error &error() const { return m_error; }

private:
    std::optional<T> m_value;
    Error m_error;
};

// Result<void>: success carries nothing.
template <> class [[nodiscard]] Result<void>
{
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)) {}

    bool ok() const { return m_error.isNull(); }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return m_error; }

private:
    Error m_error;
};

using Status = Result<void>;
