#pragma once
// Settings as one plain struct, merged from defaults < config file (INI) < environment
// (GHOST_RUNNER_*) < command-line flags, and validated. Every error names where the bad value
// came from and which key it is.

#include "result.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>

struct Config
{
    // [server]
    QString bind = QStringLiteral("127.0.0.1");
    int port = -1; // -1: the role's default (5555, runner 5053)
    QString role = QStringLiteral("all-in-one");
    qint64 maxBodyBytes = 10 * 1024 * 1024;
    int maxHeaderBytes = 64 * 1024;
    int maxHeaderCount = 100;
    int idleTimeoutS = 30;
    int requestTimeoutS = 30;
    int maxConnections = 256;
    int maxQueue = 100000;                       // unfinished deliveries before intake answers 429
    int maxWaitS = 60;                           // cap of ?wait=SECONDS
    QString readAccess = QStringLiteral("open"); // open | loopback | token
    // [paths]
    QString workspace;
    QString stateDir;
    // [auth]
    QString secretFile;
    QByteArray secret; // loaded from secretFile (or the file's inline key); never printed
    int toleranceS = 300;
    // [relay]
    QString runnerUrl;
    int maxAttempts = 12;
    int maxAgeS = 3600;
    int backoffInitialMs = 200;
    int backoffMaxMs = 30000;
    int connectTimeoutS = 5;
    int forwardTimeoutS = 60;
    int failingAgeS = 300;
    // [executor]
    bool allowCommands = false;
    QStringList commandAllowList;
    int commandTimeoutS = 60;
    bool allowGit = false;
    bool startPaused = false;
    // [log]
    QString logFormat = QStringLiteral("text"); // text | json

    QString configFile;   // where the file layer came from, if any
    QStringList warnings; // unknown keys and the like

    int effectivePort() const { return port >= 0 ? port : (role == "runner" ? 5053 : 5555); }
    QString defaultStateDir() const;

    // Reads an INI file onto this config. Unknown keys become warnings, bad values errors.
    Status loadFile(const QString &path);
    // GHOST_RUNNER_BIND, _PORT, _ROLE, _WORKSPACE, _STATE_DIR, _RUNNER_URL, _SECRET_FILE, …
    Status loadEnvironment();
    // The usual layers below the flags: the file given (or $GHOST_RUNNER_CONFIG, if any), then
    // the environment.
    Status loadFileAndEnvironment(const QString &fileFromFlag);
    // Fills defaults that depend on other keys, loads the secret, checks the whole.
    Status finalize();
    // Effective configuration as INI text, secrets masked.
    QString toIni() const;
    // Sets a key by its file name ("server.port"); `origin` names the source for errors.
    Status set(const QString &key, const QString &value, const QString &origin);
    static QStringList knownKeys();
};
