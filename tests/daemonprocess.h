#pragma once
// The real `ghost-runner` program as the tests meet it: started as a process, ready when it
// prints its "listening on" line, spoken to over real HTTP.

#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

struct HttpReply
{
    int status = 0; // 0: no answer (connection refused, timeout)
    QByteArray body;
    QJsonObject json;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray header(const QByteArray &name) const;
};

// Blocking HTTP for tests (QNetworkAccessManager, waiting with a local event loop).
HttpReply httpRequest(const QByteArray &method, const QString &url, const QByteArray &body = {},
                      const QList<QPair<QByteArray, QByteArray>> &headers = {},
                      int timeoutMs = 15000);
HttpReply httpPostJson(const QString &url, const QByteArray &body,
                       const QList<QPair<QByteArray, QByteArray>> &headers = {});
HttpReply httpGet(const QString &url);

class DaemonProcess
{
public:
    DaemonProcess();
    ~DaemonProcess();

    QProcessEnvironment &environment() { return m_env; }
    // Starts `ghost-runner serve ARGS` and waits for "listening on http://ADDR:PORT".
    bool start(const QStringList &serveArgs, int timeoutMs = 15000);
    // Starts any subcommand and waits for it to exit; returns the exit code (-1 on crash).
    static int runToEnd(const QStringList &args, QByteArray *out = nullptr,
                        QByteArray *err = nullptr, int timeoutMs = 30000,
                        const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment(),
                        const QByteArray &stdinData = {});
    QString baseUrl() const { return m_baseUrl; }
    quint16 port() const { return m_port; }
    qint64 pid() const { return m_process.processId(); }
    void kill9();
    // SIGTERM, then wait; returns the exit code (-1 on crash/timeout).
    int terminate(int timeoutMs = 15000);
    bool waitForExit(int timeoutMs);
    int exitCode() const { return m_process.exitCode(); }
    QByteArray stdoutText() const { return m_stdout; }
    QByteArray stderrText();
    QProcess &process() { return m_process; }

private:
    QProcess m_process;
    QProcessEnvironment m_env;
    QByteArray m_stdout;
    QByteArray m_stderr;
    QString m_baseUrl;
    quint16 m_port = 0;
};

// Value at a '/'-separated path inside a JSON object ("components/executor/paused").
QJsonValue jsonAt(const QJsonObject &o, const QString &path);
