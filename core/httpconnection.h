#pragma once
// One client connection of HttpServer: parses HTTP/1.1 requests with hard limits (header bytes
// and count, body size decided from Content-Length or while de-chunking, a deadline per request,
// an idle timeout), answers Expect: 100-continue, and serialises responses in request order even
// when a handler answers later (wait mode) or streams (Server-Sent Events). Handlers hold a
// QPointer to it: a client that left simply makes the pointer null.

#include "httpmessage.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <optional>

class QTcpSocket;
class HttpHandler;

struct HttpLimits
{
    qint64 maxBodyBytes = 10 * 1024 * 1024;
    int maxHeaderBytes = 64 * 1024;
    int maxHeaderCount = 100;
    int idleTimeoutMs = 30000;
    int requestTimeoutMs = 30000;
    int maxConnections = 256;
};

class HttpConnection final : public QObject
{
    Q_OBJECT
public:
    HttpConnection(QTcpSocket *socket, const HttpLimits &limits, HttpHandler *handler,
                   QObject *parent = nullptr);
    ~HttpConnection() override;

    // Answers the request being handled; later pipelined requests are then read.
    void respond(const HttpResponse &response);
    // Starts a close-delimited stream (SSE): the head now, then write() as events happen.
    void beginStream(int status, const HeaderList &headers);
    void write(const QByteArray &data);
    bool isStreaming() const { return m_state == State::Streaming; }
    // New limits (a reload), used from the next request on: the one being read keeps its own.
    void setLimits(const HttpLimits &limits);
    QHostAddress peer() const;

signals:
    // A request refused by the limits or the parser, by reason ("body_too_large", …).
    void rejected(const QString &reason);
    void closed();

private:
    enum class State { ReadingHead, ReadingBody, ReadingChunked, Handling, Streaming, Closing };

    void onReadyRead();
    void process();
    bool parseHead();
    bool readBody();
    bool readChunked();
    void dispatch();
    void fail(int status, const QString &code, const QString &message, const QString &reason);
    void sendRaw(const QByteArray &data);
    void closeAfterWrite();
    void applyPendingLimits();

    QTcpSocket *m_socket;
    HttpLimits m_limits;
    std::optional<HttpLimits> m_pendingLimits;
    HttpHandler *m_handler;
    State m_state = State::ReadingHead;
    QByteArray m_in;
    HttpRequest m_request;
    qint64 m_contentLength = 0;
    bool m_keepAlive = true;
    bool m_processing = false;
    QTimer m_idleTimer;
    QTimer m_requestTimer;
    qint64 m_discarded = 0;
    static constexpr qint64 kMaxDiscardBytes = 256LL * 1024 * 1024;
};

// What the server calls for each complete request.
class HttpHandler
{
public:
    virtual ~HttpHandler() = default;
    virtual void handle(const HttpRequest &request, HttpConnection *connection) = 0;
};
