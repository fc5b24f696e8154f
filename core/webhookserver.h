#pragma once
// The HTTP API of SPEC.md as routes over the engine: intake (/webhook, /patch), /health,
// /deliveries, replay, /metrics, /events. It translates engine results into status codes and
// the one JSON error shape; it holds no state of its own beyond waiting and streaming clients.

#include "httpconnection.h"

#include <QObject>
#include <QPointer>

class Engine;

class WebhookServer final : public QObject, public HttpHandler
{
    Q_OBJECT
public:
    explicit WebhookServer(Engine *engine, QObject *parent = nullptr);

    void handle(const HttpRequest &request, HttpConnection *connection) override;

private:
    HttpResponse route(const HttpRequest &request, HttpConnection *connection, bool *deferred);
    HttpResponse intake(const HttpRequest &request, HttpConnection *connection, bool *deferred);
    HttpResponse health() const;
    HttpResponse deliveries(const HttpRequest &request) const;
    HttpResponse delivery(const QString &id) const;
    HttpResponse replay(const QString &id, const HttpRequest &request, HttpConnection *connection,
                        bool *deferred);
    // Answers when the delivery finishes, or with its current state after waitSeconds.
    void waitForOutcome(const QString &id, int waitSeconds, HttpConnection *connection);
    HttpResponse finalAnswer(const QString &id) const;
    // An intake refused before journaling: counted by reason for /metrics.
    HttpResponse rejectIntake(int status, const QString &code, const QString &message);

    Engine *m_engine;
};
