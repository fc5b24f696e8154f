#pragma once
// How the client commands (send, status, replay, doctor) find the daemon and its secret:
// --url, else the configuration's bind and port (--config / GHOST_RUNNER_CONFIG / environment);
// --secret-file, else the configuration's secret.

#include "config.h"
#include "result.h"

#include <QCommandLineParser>
#include <QUrl>

struct ClientTarget
{
    QUrl baseUrl; // "http://127.0.0.1:5555"
    QByteArray secret;
    Config config; // the configuration it came from (defaults when none)
};

class ClientOptions
{
public:
    static void addTo(QCommandLineParser &parser, bool withSecret = true);
    static Result<ClientTarget> resolve(const QCommandLineParser &parser);
    // Standard Webhooks signature headers that prove the secret to the daemon, for body.
    static QList<QPair<QByteArray, QByteArray>> authHeaders(const QByteArray &secret,
                                                            const QByteArray &body);
};
