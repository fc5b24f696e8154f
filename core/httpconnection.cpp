#include "httpconnection.h"

#include <QDateTime>
#include <QTcpSocket>
#include <QUrl>
#include <cctype>
#include <cstring>
#include <sys/socket.h>

namespace {
bool isToken(const QByteArray &s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u <= 32 || u >= 127 || std::strchr("()<>@,;:\\\"/[]?={}", c) != nullptr)
            return false;
    }
    return true;
}

// RFC 9110 5.5: a field value with NUL, CR or another control character (HTAB aside) is refused,
// never passed on (a bare CR is a request-smuggling vector).
bool isFieldValue(const QByteArray &v)
{
    for (char c : v) {
        const unsigned char u = static_cast<unsigned char>(c);
        if ((u < 32 && c != '\t') || u == 127)
            return false;
    }
    return true;
}
} // namespace

HttpConnection::HttpConnection(QTcpSocket *socket, const HttpLimits &limits, HttpHandler *handler,
                               QObject *parent)
    : QObject(parent), m_socket(socket), m_limits(limits), m_handler(handler)
{
    m_socket->setParent(this);
    // Answers go out whole in one write; no reason to let Nagle hold the last segment back.
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    // Bounded socket buffer: a fast sender is slowed down by TCP instead of filling our memory,
    // and bytes sent while a handler works wait in the kernel.
    m_socket->setReadBufferSize(qMax<qint64>(256 * 1024, m_limits.maxHeaderBytes));
    m_idleTimer.setSingleShot(true);
    m_requestTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        m_state = State::Closing;
        m_socket->abort();
    });
    connect(&m_requestTimer, &QTimer::timeout, this, [this] {
        fail(408, "request_timeout",
             QStringLiteral("the request was not complete within %1 s")
                 .arg(m_limits.requestTimeoutMs / 1000),
             "slow_client");
    });
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        m_state = State::Closing;
        emit closed();
        deleteLater();
    });
    m_idleTimer.start(m_limits.idleTimeoutMs);
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::onReadyRead, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::setLimits(const HttpLimits &limits)
{
    m_pendingLimits = limits;
    if (m_state == State::ReadingHead && m_in.isEmpty() && !m_requestTimer.isActive())
        applyPendingLimits(); // idle between requests
}

void HttpConnection::applyPendingLimits()
{
    if (!m_pendingLimits)
        return;
    m_limits = *m_pendingLimits;
    m_pendingLimits.reset();
    if (m_idleTimer.isActive())
        m_idleTimer.start(m_limits.idleTimeoutMs);
}

QHostAddress HttpConnection::peer() const
{
    return m_socket->peerAddress();
}

void HttpConnection::onReadyRead()
{
    if (m_state == State::Closing)
        return;
    if (m_state == State::Streaming) {
        m_socket->readAll(); // an SSE client has nothing more to say
        return;
    }
    // While a handler works, pipelined bytes wait in the socket, bounded by one request's size.
    if (m_state == State::Handling)
        return;
    m_in += m_socket->readAll();
    process();
}

void HttpConnection::process()
{
    if (m_processing)
        return;
    m_processing = true;
    while (m_state != State::Closing && m_state != State::Handling && m_state != State::Streaming) {
        if (m_state == State::ReadingHead) {
            if (m_in.isEmpty())
                break;
            if (!m_requestTimer.isActive()) {
                applyPendingLimits();
                m_requestTimer.start(m_limits.requestTimeoutMs);
                m_idleTimer.stop();
                m_request = HttpRequest();
                m_request.receivedAtMs = QDateTime::currentMSecsSinceEpoch();
            }
            if (!parseHead())
                break;
        } else if (m_state == State::ReadingBody) {
            if (!readBody())
                break;
        } else if (m_state == State::ReadingChunked) {
            if (!readChunked())
                break;
        }
    }
    m_processing = false;
}

bool HttpConnection::parseHead()
{
    // Tolerate blank lines before a request (RFC 9112 2.2).
    while (m_in.startsWith("\r\n"))
        m_in.remove(0, 2);
    const qsizetype end = m_in.indexOf("\r\n\r\n");
    if (end < 0) {
        if (m_in.size() > m_limits.maxHeaderBytes)
            fail(431, "headers_too_large",
                 QStringLiteral("the request head is larger than %1 bytes")
                     .arg(m_limits.maxHeaderBytes),
                 "headers_too_large");
        return false;
    }
    if (end > m_limits.maxHeaderBytes) {
        fail(
            431, "headers_too_large",
            QStringLiteral("the request head is larger than %1 bytes").arg(m_limits.maxHeaderBytes),
            "headers_too_large");
        return false;
    }
    const QByteArray head = m_in.left(end);
    m_in.remove(0, end + 4);
    const QList<QByteArray> lines = head.split('\n');
    QByteArray requestLine = lines.first();
    if (requestLine.endsWith('\r'))
        requestLine.chop(1);
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() != 3 || !isToken(parts[0]) || parts[1].isEmpty()) {
        fail(400, "bad_request", "the request line is malformed", "malformed_request");
        return false;
    }
    m_request.method = parts[0];
    m_request.target = parts[1];
    m_request.version = parts[2];
    if (m_request.version != "HTTP/1.1" && m_request.version != "HTTP/1.0") {
        if (m_request.version.startsWith("HTTP/"))
            fail(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported",
                 "malformed_request");
        else
            fail(400, "bad_request", "the request line is malformed", "malformed_request");
        return false;
    }
    if (!m_request.target.startsWith('/')) {
        fail(400, "bad_request", "the request target must be an absolute path",
             "malformed_request");
        return false;
    }
    const QUrl url(QString::fromLatin1(m_request.target), QUrl::StrictMode);
    if (!url.isValid()) {
        fail(400, "bad_request", "the request target is not a valid URL path", "malformed_request");
        return false;
    }
    m_request.path = url.path(QUrl::FullyDecoded);
    m_request.query = QUrlQuery(url.query(QUrl::FullyEncoded));
    if (lines.size() - 1 > m_limits.maxHeaderCount) {
        fail(431, "too_many_headers",
             QStringLiteral("the request has more than %1 header fields")
                 .arg(m_limits.maxHeaderCount),
             "headers_too_large");
        return false;
    }
    for (qsizetype i = 1; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (line.endsWith('\r'))
            line.chop(1);
        const qsizetype colon = line.indexOf(':');
        if (line.startsWith(' ') || line.startsWith('\t') || colon <= 0 ||
            !isToken(line.left(colon)) || !isFieldValue(line.mid(colon + 1))) {
            fail(400, "bad_header", QStringLiteral("header line %1 is malformed").arg(i),
                 "malformed_request");
            return false;
        }
        m_request.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    m_request.peer = m_socket->peerAddress();

    const QByteArray connection = m_request.header("Connection").toLower();
    m_keepAlive = m_request.version == "HTTP/1.1" ? !connection.contains("close")
                                                  : connection.contains("keep-alive");
    // Every Transfer-Encoding header counts: "chunked" in the first and "gzip" in a second one
    // is "chunked, gzip", not "chunked".
    QByteArray te;
    for (const auto &h : m_request.headers) {
        if (h.first.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0)
            te += (te.isEmpty() ? QByteArray() : QByteArray(", ")) + h.second.toLower();
    }
    QByteArray cl;
    int clCount = 0;
    for (const auto &h : m_request.headers) {
        if (h.first.compare("Content-Length", Qt::CaseInsensitive) == 0) {
            if (clCount++ > 0 && h.second != cl) {
                fail(400, "bad_request", "conflicting Content-Length headers", "malformed_request");
                return false;
            }
            cl = h.second;
        }
    }
    if (!te.isEmpty() && clCount > 0) {
        fail(400, "bad_request", "both Transfer-Encoding and Content-Length were sent",
             "malformed_request");
        return false;
    }
    if (!te.isEmpty() && te != "chunked") {
        fail(501, "unsupported_transfer_encoding",
             "only the chunked transfer encoding is supported", "malformed_request");
        return false;
    }
    m_contentLength = 0;
    if (clCount > 0) {
        bool ok = false;
        m_contentLength = cl.toLongLong(&ok);
        if (!ok || m_contentLength < 0 || cl.startsWith('+') || cl.startsWith('-')) {
            fail(400, "bad_request", "the Content-Length header is not a number",
                 "malformed_request");
            return false;
        }
        if (m_contentLength > m_limits.maxBodyBytes) {
            fail(413, "body_too_large",
                 QStringLiteral("the body is %1 bytes; the limit is %2 bytes")
                     .arg(m_contentLength)
                     .arg(m_limits.maxBodyBytes),
                 "body_too_large");
            return false;
        }
    }
    const QByteArray expect = m_request.header("Expect").toLower();
    if (!expect.isEmpty()) {
        if (expect != "100-continue") {
            fail(417, "expectation_failed", "only Expect: 100-continue is supported",
                 "malformed_request");
            return false;
        }
        if (m_in.isEmpty() && (m_contentLength > 0 || te == "chunked"))
            sendRaw("HTTP/1.1 100 Continue\r\n\r\n");
    }
    m_state = te == "chunked" ? State::ReadingChunked : State::ReadingBody;
    return true;
}

bool HttpConnection::readBody()
{
    if (m_in.size() < m_contentLength)
        return false;
    m_request.body = m_in.left(m_contentLength);
    m_in.remove(0, m_contentLength);
    dispatch();
    return true;
}

bool HttpConnection::readChunked()
{
    for (;;) {
        const qsizetype lineEnd = m_in.indexOf("\r\n");
        if (lineEnd < 0) {
            if (m_in.size() > 1024)
                fail(400, "bad_request", "a chunk size line is malformed", "malformed_request");
            return false;
        }
        QByteArray sizeText = m_in.left(lineEnd);
        const qsizetype semi = sizeText.indexOf(';');
        if (semi >= 0)
            sizeText.truncate(semi);
        sizeText = sizeText.trimmed();
        // chunk-size is 1*HEXDIG: no sign, no "0x" (which toLongLong would accept).
        bool ok = !sizeText.isEmpty() && sizeText.size() <= 15;
        for (char c : sizeText)
            ok = ok && std::isxdigit(static_cast<unsigned char>(c));
        const qint64 size = ok ? sizeText.toLongLong(&ok, 16) : -1;
        if (!ok || size < 0) {
            fail(400, "bad_request", "a chunk size line is malformed", "malformed_request");
            return false;
        }
        if (m_request.body.size() + size > m_limits.maxBodyBytes) {
            fail(413, "body_too_large",
                 QStringLiteral("the chunked body exceeds the limit of %1 bytes")
                     .arg(m_limits.maxBodyBytes),
                 "body_too_large");
            return false;
        }
        if (size == 0) {
            // Trailers (ignored) end with an empty line.
            const qsizetype end = m_in.indexOf("\r\n\r\n", lineEnd);
            if (m_in.mid(lineEnd, 4) == "\r\n\r\n") {
                m_in.remove(0, lineEnd + 4);
            } else if (end >= 0) {
                m_in.remove(0, end + 4);
            } else {
                return false;
            }
            dispatch();
            return true;
        }
        if (m_in.size() < lineEnd + 2 + size + 2)
            return false;
        if (m_in.mid(lineEnd + 2 + size, 2) != "\r\n") {
            fail(400, "bad_request", "chunk data is not followed by CRLF", "malformed_request");
            return false;
        }
        // Grow to exactly what arrived: geometric growth would overshoot the limit's memory.
        m_request.body.reserve(m_request.body.size() + size);
        m_request.body.append(m_in.constData() + lineEnd + 2, size);
        m_in.remove(0, lineEnd + 2 + size + 2);
    }
}

void HttpConnection::dispatch()
{
    m_requestTimer.stop();
    m_state = State::Handling;
    QPointer<HttpConnection> self(this);
    m_handler->handle(m_request, this);
    Q_UNUSED(self);
}

void HttpConnection::respond(const HttpResponse &response)
{
    if (m_state != State::Handling)
        return;
    QByteArray out = "HTTP/1.1 " + QByteArray::number(response.status) + ' ' +
                     HttpResponse::reasonPhrase(response.status) + "\r\n";
    for (const auto &h : response.headers)
        out += h.first + ": " + h.second + "\r\n";
    out += "Content-Length: " + QByteArray::number(response.body.size()) + "\r\n";
    if (!m_keepAlive)
        out += "Connection: close\r\n";
    else if (m_request.version == "HTTP/1.0")
        out += "Connection: keep-alive\r\n"; // a 1.0 client keeps it only when told so
    out += "\r\n";
    if (m_request.method != "HEAD")
        out += response.body;
    sendRaw(out);
    if (!m_keepAlive) {
        closeAfterWrite();
        return;
    }
    m_state = State::ReadingHead;
    m_request = HttpRequest();
    m_in += m_socket->readAll();
    applyPendingLimits();
    if (m_in.isEmpty())
        m_idleTimer.start(m_limits.idleTimeoutMs);
    // Continue with pipelined requests after the current call stack unwinds.
    QMetaObject::invokeMethod(this, &HttpConnection::process, Qt::QueuedConnection);
}

void HttpConnection::beginStream(int status, const HeaderList &headers)
{
    if (m_state != State::Handling)
        return;
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' +
                     HttpResponse::reasonPhrase(status) + "\r\n";
    for (const auto &h : headers)
        out += h.first + ": " + h.second + "\r\n";
    out += "Connection: close\r\n\r\n";
    sendRaw(out);
    m_state = State::Streaming;
    m_idleTimer.stop();
}

void HttpConnection::write(const QByteArray &data)
{
    if (m_state == State::Streaming)
        sendRaw(data);
}

void HttpConnection::fail(int status, const QString &code, const QString &message,
                          const QString &reason)
{
    emit rejected(reason);
    m_state = State::Handling; // so respond() writes
    m_keepAlive = false;
    m_in.clear();
    m_request.body.clear(); // a refused body is not kept while the connection lingers
    respond(HttpResponse::error(status, code, message));
}

void HttpConnection::sendRaw(const QByteArray &data)
{
    if (m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(data);
}

void HttpConnection::closeAfterWrite()
{
    m_state = State::Closing;
    m_requestTimer.stop();
    m_idleTimer.stop();
    // Lingering close: once the answer is out, stop sending but keep reading (and dropping)
    // what the client still sends for a while. Closing outright while a large body is still
    // arriving makes the kernel answer with a reset, which can destroy our 413 before the
    // client has read it.
    auto halfClose = [this] {
        if (m_socket->bytesToWrite() == 0 && m_socket->state() == QAbstractSocket::ConnectedState)
            ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    };
    connect(m_socket, &QTcpSocket::bytesWritten, this, halfClose);
    halfClose();
    connect(m_socket, &QTcpSocket::readyRead, this, [this] {
        m_discarded += m_socket->readAll().size();
        if (m_discarded > kMaxDiscardBytes)
            m_socket->abort();
    });
    m_socket->readAll();
    // A client that never stops sending, or never closes, cannot hold the connection.
    QTimer::singleShot(2000, m_socket, [s = m_socket] { s->abort(); });
}
