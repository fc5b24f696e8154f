#pragma once
// The HTTP API of SPEC.md as routes over the engine: intake (/webhook, /patch), /health,
// /deliveries, replay, /metrics, /events. It translates engine results into status codes and
// the one JSON error shape; it holds no state of its own beyond waiting and streaming clients.

#include "deliveryjournal.h"
#include "httpconnection.h"

#include <QObject>
#include <QPointer>
#include <optional>

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
    // Counts an intake answer by the status it goes out with, and returns it.
    HttpResponse counted(HttpResponse intakeAnswer);
    // The answer to an intake once journaled (or refused by the journal); none while it waits
    // for the outcome (?wait), which answers later.
    std::optional<HttpResponse> intakeAnswer(const Result<RecordResult> &recorded,
                                             qint64 receivedAtMs, int waitSeconds,
                                             HttpConnection *connection);
    // An engine refusal (bad envelope, queue full, journal error) as an HTTP answer, counted.
    HttpResponse intakeRefused(const Error &error);
    // An intake refused before journaling: counted by reason for /metrics.
    HttpResponse rejectIntake(int status, const QString &code, const QString &message);

    Engine *m_engine;
};
