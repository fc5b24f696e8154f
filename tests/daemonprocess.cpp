#include "daemonprocess.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QTimer>
#include <csignal>

QByteArray HttpReply::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return QByteArray();
}

HttpReply httpRequest(const QByteArray &method, const QString &url, const QByteArray &body,
                      const QList<QPair<QByteArray, QByteArray>> &headers, int timeoutMs)
{
    static QNetworkAccessManager *nam = new QNetworkAccessManager;
    QNetworkRequest req{QUrl(url)};
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                     QNetworkRequest::ManualRedirectPolicy);
    req.setTransferTimeout(timeoutMs);
    for (const auto &h : headers)
        req.setRawHeader(h.first, h.second);
    QNetworkReply *reply = nam->sendCustomRequest(req, method, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs + 1000, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    HttpReply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.headers = reply->rawHeaderPairs();
    r.json = QJsonDocument::fromJson(r.body).object();
    reply->deleteLater();
    return r;
}

HttpReply httpPostJson(const QString &url, const QByteArray &body,
                       const QList<QPair<QByteArray, QByteArray>> &headers)
{
    auto h = headers;
    h.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
    return httpRequest("POST", url, body, h);
}

HttpReply httpGet(const QString &url)
{
    return httpRequest("GET", url);
}

DaemonProcess::DaemonProcess() : m_env(QProcessEnvironment::systemEnvironment())
{
    m_env.remove("NOTIFY_SOCKET");
    m_env.remove("GHOST_RUNNER_CONFIG");
    m_env.remove("GHOST_RUNNER_CRASH_AT");
}

DaemonProcess::~DaemonProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

bool DaemonProcess::start(const QStringList &serveArgs, int timeoutMs)
{
    m_stdout.clear();
    m_stderr.clear();
    m_port = 0;
    m_process.setProcessEnvironment(m_env);
    m_process.start(QStringLiteral(GR_BINARY), QStringList{"serve"} + serveArgs);
    if (!m_process.waitForStarted(timeoutMs))
        return false;
    static const QRegularExpression re(QStringLiteral("listening on (http://[^ ]+:(\\d+))"));
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        if (!m_process.waitForReadyRead(200) && m_process.state() == QProcess::NotRunning)
            break;
        m_stdout += m_process.readAllStandardOutput();
        const auto m = re.match(QString::fromUtf8(m_stdout));
        if (m.hasMatch()) {
            m_baseUrl = m.captured(1);
            m_port = quint16(m.captured(2).toUInt());
            return true;
        }
    }
    m_stdout += m_process.readAllStandardOutput();
    m_stderr += m_process.readAllStandardError();
    return false;
}

QByteArray DaemonProcess::stderrText()
{
    m_stderr += m_process.readAllStandardError();
    return m_stderr;
}

void DaemonProcess::kill9()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    ::kill(pid_t(m_process.processId()), SIGKILL);
    m_process.waitForFinished(10000);
}

int DaemonProcess::terminate(int timeoutMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    ::kill(pid_t(m_process.processId()), SIGTERM);
    if (!m_process.waitForFinished(timeoutMs))
        return -1;
    m_stdout += m_process.readAllStandardOutput();
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

// waitForFinished() answers false for a process that has already finished, which happens when
// an event loop (an HTTP request's) noticed the exit first.
bool DaemonProcess::waitForExit(int timeoutMs)
{
    return m_process.state() == QProcess::NotRunning || m_process.waitForFinished(timeoutMs);
}

int DaemonProcess::runToEnd(const QStringList &args, QByteArray *out, QByteArray *err,
                            int timeoutMs, const QProcessEnvironment &env,
                            const QByteArray &stdinData)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(GR_BINARY), args);
    if (!p.waitForStarted(timeoutMs))
        return -1;
    if (!stdinData.isEmpty())
        p.write(stdinData);
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return -1;
    }
    if (out)
        *out = p.readAllStandardOutput();
    if (err)
        *err = p.readAllStandardError();
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}

QJsonValue jsonAt(const QJsonObject &o, const QString &path)
{
    QJsonValue v = o;
    for (const QString &part : path.split('/'))
        v = v.toObject().value(part);
    return v;
}
