#include "webhookserver.h"

#include "deliveryjournal.h"
#include "engine.h"
#include "eventstream.h"
#include "requestauthenticator.h"

#include <QDateTime>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QTimer>
#include <QUuid>
#include <memory>

Q_LOGGING_CATEGORY(lcHttp, "ghostrunner.http")

namespace {

int statusForError(const QString &code)
{
    if (code == QLatin1String("bad_json") || code == QLatin1String("bad_envelope") ||
        code == QLatin1String("missing_id") || code == QLatin1String("unknown_format"))
        return 400;
    if (code == QLatin1String("conflict"))
        return 409;
    if (code == QLatin1String("queue_full"))
        return 429;
    if (code == QLatin1String("not_found"))
        return 404;
    if (code == QLatin1String("not_finished"))
        return 409;
    return 503;
}

qint64 parseTime(const QString &s)
{
    if (s.isEmpty())
        return 0;
    bool ok = false;
    const qint64 ms = s.toLongLong(&ok);
    if (ok)
        return ms;
    const QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    return t.isValid() ? t.toMSecsSinceEpoch() : -1;
}

} // namespace

WebhookServer::WebhookServer(Engine *engine, QObject *parent) : QObject(parent), m_engine(engine) {}

void WebhookServer::handle(const HttpRequest &request, HttpConnection *connection)
{
    bool deferred = false;
    const HttpResponse response = route(request, connection, &deferred);
    if (!deferred)
        connection->respond(response);
}

HttpResponse WebhookServer::route(const HttpRequest &req, HttpConnection *conn, bool *deferred)
{
    const QString &path = req.path;
    const QByteArray &method = req.method;
    const Config &config = m_engine->config();
    // Read endpoints: open, loopback-only, or bearer token, per server.read_access.
    auto readAllowed = [&]() -> std::optional<HttpResponse> {
        if (config.readAccess == QLatin1String("loopback") && !req.peerIsLoopback())
            return HttpResponse::error(403, "forbidden",
                                       "read endpoints answer only on loopback "
                                       "(server.read_access = loopback)");
        if (config.readAccess == QLatin1String("token")) {
            const Result<AuthIdentity> id = RequestAuthenticator(config.secret, config.toleranceS)
                                                .authenticateBearer(req.headers);
            if (!id.ok())
                return HttpResponse::error(401, id.error().code, id.error().message)
                    .withHeader("WWW-Authenticate", "Bearer");
        }
        return std::nullopt;
    };
    auto only = [&](const char *allowed) -> std::optional<HttpResponse> {
        if (method == allowed || (qstrcmp(allowed, "GET") == 0 && method == "HEAD"))
            return std::nullopt;
        return HttpResponse::error(
                   405, "method_not_allowed",
                   QStringLiteral("%1 %2 is not supported; use %3")
                       .arg(QString::fromLatin1(method), path, QLatin1String(allowed)))
            .withHeader("Allow", allowed);
    };
    if (path == QLatin1String("/webhook") || path == QLatin1String("/patch")) {
        if (auto r = only("POST"))
            return *r;
        return intake(req, conn, deferred);
    }
    if (path == QLatin1String("/health")) {
        if (auto r = only("GET"))
            return *r;
        if (auto r = readAllowed())
            return *r;
        return health();
    }
    if (path == QLatin1String("/deliveries")) {
        if (auto r = only("GET"))
            return *r;
        if (auto r = readAllowed())
            return *r;
        return deliveries(req);
    }
    if (path.startsWith(QLatin1String("/deliveries/"))) {
        const QStringList parts = path.mid(12).split(QLatin1Char('/'));
        if (parts.size() == 1 && !parts[0].isEmpty()) {
            if (auto r = only("GET"))
                return *r;
            if (auto r = readAllowed())
                return *r;
            return delivery(parts[0]);
        }
        if (parts.size() == 2 && parts[1] == QLatin1String("replay")) {
            if (auto r = only("POST"))
                return *r;
            return replay(parts[0], req, conn, deferred);
        }
    }
    if (path == QLatin1String("/metrics")) {
        if (auto r = only("GET"))
            return *r;
        if (auto r = readAllowed())
            return *r;
        return HttpResponse::text(200, m_engine->renderMetrics(),
                                  "text/plain; version=0.0.4; charset=utf-8");
    }
    if (path == QLatin1String("/events")) {
        if (auto r = only("GET"))
            return *r;
        if (auto r = readAllowed())
            return *r;
        bool ok = false;
        qint64 last = req.header("Last-Event-ID").toLongLong(&ok);
        if (!ok)
            last = req.query.queryItemValue("last_event_id").toLongLong(&ok);
        m_engine->events()->subscribe(conn, ok ? last : 0);
        *deferred = true;
        return HttpResponse();
    }
    if (path == QLatin1String("/")) {
        return HttpResponse::json(
            200, QJsonObject{{"name", "ghost-runner"},
                             {"version", GR_VERSION},
                             {"endpoints", QJsonArray{"POST /webhook", "POST /patch", "GET /health",
                                                      "GET /deliveries", "GET /deliveries/{id}",
                                                      "POST /deliveries/{id}/replay",
                                                      "GET /metrics", "GET /events"}}});
    }
    return HttpResponse::error(
        404, "not_found", QStringLiteral("no such endpoint %1; see GET / for the list").arg(path));
}

HttpResponse WebhookServer::intake(const HttpRequest &req, HttpConnection *conn, bool *deferred)
{
    const QByteArray type = req.header("Content-Type").toLower();
    if (!type.isEmpty() && !type.startsWith("application/json") && !type.contains("+json"))
        return rejectIntake(415, "unsupported_media_type",
                            QStringLiteral("the body must be JSON (Content-Type: "
                                           "application/json), not %1")
                                .arg(QString::fromLatin1(type)));
    int waitSeconds = 0;
    if (req.query.hasQueryItem("wait")) {
        bool ok = false;
        waitSeconds = req.query.queryItemValue("wait").toInt(&ok);
        if (!ok || waitSeconds < 0)
            return HttpResponse::error(400, "bad_request", "wait must be a number of seconds");
        waitSeconds = qMin(waitSeconds, m_engine->config().maxWaitS);
    }
    const Config &config = m_engine->config();
    const Result<AuthIdentity> identity =
        RequestAuthenticator(config.secret, config.toleranceS)
            .authenticate(req.headers, req.body, QDateTime::currentDateTimeUtc());
    if (!identity.ok())
        return rejectIntake(401, identity.error().code, identity.error().message)
            .withHeader("WWW-Authenticate", "Bearer");
    IntakeRequest in;
    in.body = req.body;
    in.receivedAtMs = req.receivedAtMs;
    in.source = identity->scheme;
    // A sender's delivery id seen before answers with the existing delivery (replay protection).
    in.dedupeKey = identity->deliveryKey;
    // A relay names its delivery; keeping the id links the relay's and the runner's records.
    const QUuid relayId =
        QUuid::fromString(QString::fromLatin1(req.header("X-Ghost-Runner-Delivery")));
    if (!relayId.isNull())
        in.deliveryId = relayId.toString(QUuid::WithoutBraces);
    const qint64 receivedAtMs = req.receivedAtMs;
    QPointer<HttpConnection> target(conn);
    const Status queued = m_engine->intakeGrouped(
        in, [this, target, waitSeconds, receivedAtMs](const Result<RecordResult> &r) {
            if (!target)
                return; // the client left; the delivery is journaled all the same
            std::optional<HttpResponse> answer = intakeAnswer(r, receivedAtMs, waitSeconds, target);
            if (answer)
                target->respond(*answer);
        });
    if (!queued.ok())
        return intakeRefused(queued.error());
    *deferred = true; // answered once the group commit is on disk
    return HttpResponse();
}

HttpResponse WebhookServer::intakeRefused(const Error &error)
{
    const int status = statusForError(error.code);
    HttpResponse resp = rejectIntake(status, error.code, error.message);
    if (status == 429 || status == 503)
        resp.withHeader("Retry-After", "1");
    return resp;
}

std::optional<HttpResponse> WebhookServer::intakeAnswer(const Result<RecordResult> &r,
                                                        qint64 receivedAtMs, int waitSeconds,
                                                        HttpConnection *conn)
{
    if (!r.ok())
        return intakeRefused(r.error());
    if (!r->duplicate)
        m_engine->metrics().intakeJournaled(
            double(QDateTime::currentMSecsSinceEpoch() - receivedAtMs));
    const Delivery &d = r->delivery;
    if (waitSeconds > 0) {
        if (d.isFinal())
            return counted(finalAnswer(d.id));
        waitForOutcome(d.id, waitSeconds, conn);
        return std::nullopt;
    }
    QJsonObject body{{"delivery", d.id},
                     {"id", d.patchId},
                     {"status", r->duplicate ? d.status : QStringLiteral("queued")},
                     {"links", QJsonObject{{"self", "/deliveries/" + d.id}}}};
    if (r->duplicate) {
        body.insert("duplicate", true);
        return counted(HttpResponse::json(200, body));
    }
    return counted(HttpResponse::json(202, body));
}

void WebhookServer::waitForOutcome(const QString &id, int waitSeconds, HttpConnection *conn)
{
    QPointer<HttpConnection> target(conn);
    auto *guard = new QObject(this);
    auto answered = std::make_shared<bool>(false);
    auto answer = [this, target, guard, id, answered](bool finished) {
        // The deadline and the outcome can land in the same pass: answer once.
        if (*answered)
            return;
        *answered = true;
        if (target) {
            if (finished) {
                target->respond(counted(finalAnswer(id)));
            } else {
                const Result<Delivery> d = m_engine->journal()->find(id, true);
                target->respond(
                    counted(HttpResponse::json(202, d.ok() ? d->toJson(true) : QJsonObject())));
            }
        }
        guard->deleteLater();
    };
    connect(m_engine, &Engine::deliveryFinished, guard, [answer, id](const QString &finishedId) {
        if (finishedId == id)
            answer(true);
    });
    QTimer::singleShot(waitSeconds * 1000, guard, [answer] { answer(false); });
}

HttpResponse WebhookServer::counted(HttpResponse intakeAnswer)
{
    m_engine->metrics().intakeAnswered(intakeAnswer.status);
    return intakeAnswer;
}

HttpResponse WebhookServer::finalAnswer(const QString &id) const
{
    const Result<Delivery> d = m_engine->journal()->find(id, true);
    if (!d.ok())
        return HttpResponse::error(503, d.error().code, d.error().message);
    return HttpResponse::json(d->status == QLatin1String("applied") ? 200 : 422, d->toJson(true));
}

HttpResponse WebhookServer::health() const
{
    const HealthReport report = m_engine->health();
    const QJsonObject body = report.toJson(QStringLiteral(GR_VERSION), m_engine->config().role,
                                           m_engine->uptimeSeconds());
    return HttpResponse::json(report.overall() == Health::Failing ? 503 : 200, body);
}

HttpResponse WebhookServer::deliveries(const HttpRequest &req) const
{
    DeliveryFilter f;
    f.status = req.query.queryItemValue("status");
    f.patchId = req.query.queryItemValue("id", QUrl::FullyDecoded);
    f.sinceMs = parseTime(req.query.queryItemValue("since", QUrl::FullyDecoded));
    f.untilMs = parseTime(req.query.queryItemValue("until", QUrl::FullyDecoded));
    if (f.sinceMs < 0 || f.untilMs < 0)
        return HttpResponse::error(400, "bad_request",
                                   "since and until must be ISO 8601 times or milliseconds");
    bool ok = true;
    if (req.query.hasQueryItem("limit"))
        f.limit = req.query.queryItemValue("limit").toInt(&ok);
    if (!ok || f.limit < 1 || f.limit > 1000)
        return HttpResponse::error(400, "bad_request", "limit must be from 1 to 1000");
    if (req.query.hasQueryItem("before"))
        f.beforeSeq = req.query.queryItemValue("before").toLongLong(&ok);
    if (!ok)
        return HttpResponse::error(400, "bad_request", "before must be a cursor from \"next\"");
    const Result<QList<Delivery>> list = m_engine->journal()->list(f);
    if (!list.ok())
        return HttpResponse::error(503, list.error().code, list.error().message);
    QJsonArray items;
    for (const Delivery &d : *list)
        items.append(d.toJson(false));
    QJsonObject body{{"deliveries", items}};
    if (list->size() == f.limit) {
        QUrlQuery next = req.query;
        next.removeAllQueryItems("before");
        next.addQueryItem("before", QString::number(list->last().seq));
        body.insert("next", "/deliveries?" + next.toString(QUrl::FullyEncoded));
    }
    return HttpResponse::json(200, body);
}

HttpResponse WebhookServer::delivery(const QString &id) const
{
    const Result<Delivery> d = m_engine->journal()->find(id, true);
    if (!d.ok()) {
        const int status = d.error().code == QLatin1String("not_found") ? 404 : 503;
        return HttpResponse::error(status, d.error().code, d.error().message);
    }
    return HttpResponse::json(200, d->toJson(true));
}

HttpResponse WebhookServer::replay(const QString &id, const HttpRequest &req, HttpConnection *conn,
                                   bool *deferred)
{
    Q_UNUSED(conn);
    Q_UNUSED(deferred);
    const Config &config = m_engine->config();
    if (!config.secret.isEmpty()) {
        const Result<AuthIdentity> who =
            RequestAuthenticator(config.secret, config.toleranceS).authenticateBearer(req.headers);
        if (!who.ok())
            return HttpResponse::error(401, who.error().code, who.error().message)
                .withHeader("WWW-Authenticate", "Bearer");
    } else if (!req.peerIsLoopback()) {
        return HttpResponse::error(403, "forbidden",
                                   "without a secret, replay is only allowed "
                                   "from loopback");
    }
    const Result<RecordResult> r = m_engine->replay(id);
    if (!r.ok())
        return HttpResponse::error(statusForError(r.error().code), r.error().code,
                                   r.error().message);
    const Delivery &d = r->delivery;
    return HttpResponse::json(202,
                              QJsonObject{{"delivery", d.id},
                                          {"id", d.patchId},
                                          {"status", "queued"},
                                          {"replay_of", id},
                                          {"links", QJsonObject{{"self", "/deliveries/" + d.id}}}});
}

HttpResponse WebhookServer::rejectIntake(int status, const QString &code, const QString &message)
{
    m_engine->metrics().requestRejected(code);
    return counted(HttpResponse::error(status, code, message));
}
