#include "daemonclient.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>

namespace {
qint64 parseIso(const QJsonValue &v)
{
    if (!v.isString())
        return 0;
    const QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    return t.isValid() ? t.toMSecsSinceEpoch() : 0;
}
} // namespace

DaemonClient::DaemonClient(QUrl baseUrl, QByteArray token, QObject *parent)
    : QObject(parent), m_base(std::move(baseUrl)), m_token(std::move(token))
{
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &DaemonClient::openStream);
}

DaemonClient::~DaemonClient()
{
    stop();
}

void DaemonClient::setBackoff(int initialMs, int maxMs)
{
    m_initialBackoffMs = initialMs;
    m_maxBackoffMs = maxMs;
    m_backoffMs = initialMs;
}

QNetworkRequest DaemonClient::request(const QString &path) const
{
    QUrl url = m_base;
    const int q = path.indexOf(QLatin1Char('?'));
    url.setPath(url.path().chopped(url.path().endsWith(QLatin1Char('/')) ? 1 : 0) +
                (q < 0 ? path : path.left(q)));
    if (q >= 0)
        url.setQuery(path.mid(q + 1));
    QNetworkRequest r(url);
    r.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (!m_token.isEmpty())
        r.setRawHeader("Authorization", "Bearer " + m_token);
    return r;
}

void DaemonClient::start()
{
    m_running = true;
    m_backoffMs = m_initialBackoffMs;
    openStream();
}

void DaemonClient::stop()
{
    m_running = false;
    m_reconnect.stop();
    if (m_stream) {
        QNetworkReply *r = m_stream;
        m_stream = nullptr;
        r->disconnect(this);
        r->abort();
        r->deleteLater();
    }
    setConnected(false, QStringLiteral("stopped"));
}

void DaemonClient::openStream()
{
    if (!m_running || m_stream)
        return;
    QNetworkRequest r = request(QStringLiteral("/events"));
    r.setRawHeader("Accept", "text/event-stream");
    r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    if (m_lastEventId > 0)
        r.setRawHeader("Last-Event-ID", QByteArray::number(m_lastEventId));
    m_buffer.clear();
    m_eventType.clear();
    m_eventData.clear();
    m_stream = m_nam.get(r);
    connect(m_stream, &QNetworkReply::metaDataChanged, this, [this] {
        const int status = m_stream->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status != 200) {
            const QString reason = QStringLiteral("GET /events answered %1").arg(status);
            QNetworkReply *r = m_stream;
            m_stream = nullptr;
            r->disconnect(this);
            r->abort();
            r->deleteLater();
            scheduleReconnect(reason);
            return;
        }
        m_backoffMs = m_initialBackoffMs;
        setConnected(true, QString());
        // The stream is open: read the current picture once, then follow the events.
        fetchHealth();
        fetchDeliveries();
    });
    connect(m_stream, &QNetworkReply::readyRead, this, &DaemonClient::onStreamData);
    connect(m_stream, &QNetworkReply::finished, this, &DaemonClient::onStreamEnded);
}

void DaemonClient::onStreamData()
{
    if (!m_stream)
        return;
    m_buffer += m_stream->readAll();
    int nl;
    while ((nl = m_buffer.indexOf('\n')) >= 0) {
        QByteArray line = m_buffer.left(nl);
        m_buffer.remove(0, nl + 1);
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) { // end of one event
            if (!m_eventData.isEmpty() || !m_eventType.isEmpty())
                dispatchEvent(m_eventType.isEmpty() ? QStringLiteral("message") : m_eventType,
                              m_eventData);
            m_eventType.clear();
            m_eventData.clear();
            continue;
        }
        if (line.startsWith(':'))
            continue; // comment (keep-alive)
        const int colon = line.indexOf(':');
        const QByteArray field = colon < 0 ? line : line.left(colon);
        QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
        if (value.startsWith(' '))
            value.remove(0, 1);
        if (field == "event") {
            m_eventType = QString::fromUtf8(value);
        } else if (field == "data") {
            if (!m_eventData.isEmpty())
                m_eventData += '\n';
            m_eventData += value;
        } else if (field == "id") {
            bool ok = false;
            const qint64 id = value.toLongLong(&ok);
            if (ok)
                m_lastEventId = id;
        }
    }
}

void DaemonClient::dispatchEvent(const QString &type, const QByteArray &data)
{
    const QJsonObject o = QJsonDocument::fromJson(data).object();
    if (type == QLatin1String("delivery")) {
        emit deliveryEvent(o.value("delivery").toString(), o.value("id").toString(),
                           o.value("status").toString());
    } else if (type == QLatin1String("health")) {
        QStringList problems;
        for (const QJsonValue &p : o.value("problems").toArray())
            problems.append(p.toString());
        emit healthEvent(HealthReport::fromName(o.value("status").toString()),
                         HealthReport::fromName(o.value("previous").toString()), problems);
    }
}

void DaemonClient::onStreamEnded()
{
    if (!m_stream)
        return;
    QNetworkReply *r = m_stream;
    m_stream = nullptr;
    const QString reason = r->error() != QNetworkReply::NoError
                               ? r->errorString()
                               : QStringLiteral("the daemon closed the event stream");
    r->deleteLater();
    scheduleReconnect(reason);
}

void DaemonClient::scheduleReconnect(const QString &reason)
{
    setConnected(false, reason);
    if (!m_running)
        return;
    m_reconnect.start(m_backoffMs);
    m_backoffMs = qMin(m_maxBackoffMs, m_backoffMs * 2);
}

void DaemonClient::setConnected(bool connected, const QString &reason)
{
    if (connected == m_connected)
        return;
    m_connected = connected;
    emit connectedChanged(connected, reason);
}

void DaemonClient::fetchHealth()
{
    QNetworkReply *r = m_nam.get(request(QStringLiteral("/health")));
    connect(r, &QNetworkReply::finished, this, [this, r] {
        r->deleteLater();
        const QJsonObject o = QJsonDocument::fromJson(r->readAll()).object();
        if (!o.isEmpty()) // 503 carries a body too: failing is still an answer
            emit healthReceived(o);
    });
}

void DaemonClient::fetchDeliveries(int limit)
{
    QNetworkReply *r = m_nam.get(request(QStringLiteral("/deliveries?limit=%1").arg(limit)));
    connect(r, &QNetworkReply::finished, this, [this, r] {
        r->deleteLater();
        if (r->error() != QNetworkReply::NoError)
            return;
        QList<Delivery> list;
        const QJsonObject o = QJsonDocument::fromJson(r->readAll()).object();
        for (const QJsonValue &v : o.value("deliveries").toArray())
            list.append(deliveryFromJson(v.toObject()));
        emit deliveriesReceived(list);
    });
}

void DaemonClient::fetchDelivery(const QString &id)
{
    QNetworkReply *r = m_nam.get(request(QStringLiteral("/deliveries/") + id));
    connect(r, &QNetworkReply::finished, this, [this, r] {
        r->deleteLater();
        const QJsonObject o = QJsonDocument::fromJson(r->readAll()).object();
        if (r->error() == QNetworkReply::NoError && o.contains("delivery"))
            emit deliveryReceived(deliveryFromJson(o));
    });
}

void DaemonClient::replay(const QString &id)
{
    QNetworkRequest req = request(QStringLiteral("/deliveries/%1/replay").arg(id));
    req.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
    QNetworkReply *r = m_nam.post(req, QByteArray("{}"));
    connect(r, &QNetworkReply::finished, this, [this, r] {
        r->deleteLater();
        const QJsonObject o = QJsonDocument::fromJson(r->readAll()).object();
        if (r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 202)
            emit replayFinished(true, o.value("delivery").toString());
        else
            emit replayFinished(
                false, o.value("error").toObject().value("message").toString(r->errorString()));
    });
}

Delivery DaemonClient::deliveryFromJson(const QJsonObject &o)
{
    Delivery d;
    d.id = o.value("delivery").toString();
    d.patchId = o.value("id").toString();
    d.format = o.value("format").toString();
    d.status = o.value("status").toString();
    d.replayOf = o.value("replay_of").toString();
    d.receivedAtMs = parseIso(o.value("received_at"));
    d.finishedAtMs = parseIso(o.value("finished_at"));
    d.attempts = o.value("attempts").toInt();
    if (d.isFinal())
        d.outcome = Outcome::fromJson(o);
    for (const QJsonValue &v : o.value("timeline").toArray()) {
        const QJsonObject e = v.toObject();
        d.events.append(
            {parseIso(e.value("at")), e.value("state").toString(), e.value("detail").toObject()});
    }
    return d;
}
