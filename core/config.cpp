#include "config.h"

#include "requestauthenticator_fwd.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QSettings>
#include <QStandardPaths>
#include <QUrl>

namespace {

Error configError(const QString &origin, const QString &key, const QString &problem)
{
    return makeError("config_invalid", QStringLiteral("%1: %2: %3").arg(origin, key, problem));
}

struct EnvKey
{
    const char *env;
    const char *key;
};
const EnvKey kEnv[] = {
    {"GHOST_RUNNER_BIND", "server.bind"},
    {"GHOST_RUNNER_PORT", "server.port"},
    {"GHOST_RUNNER_ROLE", "server.role"},
    {"GHOST_RUNNER_READ_ACCESS", "server.read_access"},
    {"GHOST_RUNNER_WORKSPACE", "paths.workspace"},
    {"GHOST_RUNNER_STATE_DIR", "paths.state_dir"},
    {"GHOST_RUNNER_SECRET_FILE", "auth.secret_file"},
    {"GHOST_RUNNER_RUNNER_URL", "relay.runner_url"},
    {"GHOST_RUNNER_ALLOW_COMMANDS", "executor.allow_commands"},
    {"GHOST_RUNNER_LOG_FORMAT", "log.format"},
};

// "line N ("…") is neither …" for the first line QSettings cannot read, or empty.
QString malformedLine(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return QString();
    int number = 0;
    while (!f.atEnd()) {
        ++number;
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(';') || line.startsWith('#'))
            continue;
        if (line.startsWith('[') ? !line.contains(']') : !line.contains('='))
            return QStringLiteral("line %1 (\"%2\") is neither [section] nor key = value")
                .arg(number)
                .arg(line.left(60));
    }
    return QString();
}

} // namespace

QStringList Config::knownKeys()
{
    return {"server.bind",
            "server.port",
            "server.role",
            "server.max_body_bytes",
            "server.max_header_bytes",
            "server.max_header_count",
            "server.idle_timeout_s",
            "server.request_timeout_s",
            "server.max_connections",
            "server.max_queue",
            "server.max_wait_s",
            "server.read_access",
            "paths.workspace",
            "paths.state_dir",
            "auth.secret_file",
            "auth.secret",
            "auth.tolerance_s",
            "relay.runner_url",
            "relay.max_attempts",
            "relay.max_age_s",
            "relay.backoff_initial_ms",
            "relay.backoff_max_ms",
            "relay.connect_timeout_s",
            "relay.forward_timeout_s",
            "relay.failing_age_s",
            "executor.allow_commands",
            "executor.command_allow_list",
            "executor.command_timeout_s",
            "executor.allow_git",
            "executor.start_paused",
            "log.format"};
}

QString Config::defaultStateDir() const
{
    const QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    return base + QStringLiteral("/ghost-runner");
}

Status Config::set(const QString &key, const QString &value, const QString &origin)
{
    auto toInt = [&](int *out, int min, int max) -> Status {
        bool ok = false;
        const int v = value.trimmed().toInt(&ok);
        if (!ok || v < min || v > max)
            return configError(origin, key,
                               QStringLiteral("\"%1\" is not a whole number from %2 to %3")
                                   .arg(value)
                                   .arg(min)
                                   .arg(max));
        *out = v;
        return {};
    };
    auto toBool = [&](bool *out) -> Status {
        const QString v = value.trimmed().toLower();
        if (v == "true" || v == "1" || v == "yes" || v == "on")
            *out = true;
        else if (v == "false" || v == "0" || v == "no" || v == "off")
            *out = false;
        else
            return configError(origin, key,
                               QStringLiteral("\"%1\" is not true or false").arg(value));
        return {};
    };
    int tmp = 0;
    if (key == "server.bind") {
        QHostAddress a;
        if (!a.setAddress(value.trimmed()))
            return configError(origin, key,
                               QStringLiteral("\"%1\" is not an IP address").arg(value));
        bind = value.trimmed();
    } else if (key == "server.port") {
        return toInt(&port, 0, 65535);
    } else if (key == "server.role") {
        const QString v = value.trimmed();
        if (v != "all-in-one" && v != "relay" && v != "runner")
            return configError(
                origin, key,
                QStringLiteral("\"%1\" is not one of all-in-one, relay, runner").arg(value));
        role = v;
    } else if (key == "server.max_body_bytes") {
        bool ok = false;
        const qint64 v = value.trimmed().toLongLong(&ok);
        if (!ok || v < 1024)
            return configError(origin, key, "must be a number of bytes, at least 1024");
        maxBodyBytes = v;
    } else if (key == "server.max_header_bytes") {
        return toInt(&maxHeaderBytes, 1024, 1024 * 1024);
    } else if (key == "server.max_header_count") {
        return toInt(&maxHeaderCount, 8, 1000);
    } else if (key == "server.idle_timeout_s") {
        return toInt(&idleTimeoutS, 1, 86400);
    } else if (key == "server.request_timeout_s") {
        return toInt(&requestTimeoutS, 1, 3600);
    } else if (key == "server.max_connections") {
        return toInt(&maxConnections, 1, 100000);
    } else if (key == "server.max_queue") {
        return toInt(&maxQueue, 1, 10000000);
    } else if (key == "server.max_wait_s") {
        return toInt(&maxWaitS, 0, 3600);
    } else if (key == "server.read_access") {
        const QString v = value.trimmed();
        if (v != "open" && v != "loopback" && v != "token")
            return configError(origin, key, "must be open, loopback or token");
        readAccess = v;
    } else if (key == "paths.workspace") {
        workspace = value.trimmed();
    } else if (key == "paths.state_dir") {
        stateDir = value.trimmed();
    } else if (key == "auth.secret_file") {
        secretFile = value.trimmed();
    } else if (key == "auth.secret") {
        // The inline form of the secret (SPEC.md: "--secret-file FILE, or the configuration").
        if (value.trimmed().isEmpty())
            return configError(origin, key, "the secret must not be empty");
        secret = value.trimmed().toUtf8();
    } else if (key == "auth.tolerance_s") {
        return toInt(&toleranceS, 1, 86400);
    } else if (key == "relay.runner_url") {
        const QUrl u(value.trimmed());
        if (!value.trimmed().isEmpty() &&
            (!u.isValid() || (u.scheme() != "http" && u.scheme() != "https") || u.host().isEmpty()))
            return configError(origin, key,
                               QStringLiteral("\"%1\" is not an http(s) URL").arg(value));
        runnerUrl = value.trimmed();
        while (runnerUrl.endsWith('/'))
            runnerUrl.chop(1);
    } else if (key == "relay.max_attempts") {
        return toInt(&maxAttempts, 1, 1000000);
    } else if (key == "relay.max_age_s") {
        return toInt(&maxAgeS, 1, 365 * 86400);
    } else if (key == "relay.backoff_initial_ms") {
        return toInt(&backoffInitialMs, 1, 3600000);
    } else if (key == "relay.backoff_max_ms") {
        return toInt(&backoffMaxMs, 1, 86400000);
    } else if (key == "relay.connect_timeout_s") {
        return toInt(&connectTimeoutS, 1, 600);
    } else if (key == "relay.forward_timeout_s") {
        return toInt(&forwardTimeoutS, 1, 3600);
    } else if (key == "relay.failing_age_s") {
        return toInt(&failingAgeS, 1, 365 * 86400);
    } else if (key == "executor.allow_commands") {
        return toBool(&allowCommands);
    } else if (key == "executor.command_allow_list") {
        commandAllowList.clear();
        for (const QString &p : value.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
            commandAllowList.append(p.trimmed());
    } else if (key == "executor.command_timeout_s") {
        return toInt(&commandTimeoutS, 1, 86400);
    } else if (key == "executor.allow_git") {
        return toBool(&allowGit);
    } else if (key == "executor.start_paused") {
        return toBool(&startPaused);
    } else if (key == "log.format") {
        const QString v = value.trimmed();
        if (v != "text" && v != "json")
            return configError(origin, key, "must be text or json");
        logFormat = v;
    } else {
        return configError(origin, key, "unknown key");
    }
    Q_UNUSED(tmp);
    return {};
}

Status Config::loadFile(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return makeError("config_invalid",
                         QStringLiteral("%1: the configuration file does not exist").arg(path));
    QFile probe(path);
    if (!probe.open(QIODevice::ReadOnly))
        return makeError("config_invalid",
                         QStringLiteral("%1: cannot read: %2").arg(path, probe.errorString()));
    probe.close();
    QSettings s(path, QSettings::IniFormat);
    // QSettings parses a section when its keys are first read: only then is a malformed line
    // (no "=", an unclosed "[") a FormatError; checked before, such a line was silently ignored.
    // QSettings also counts "#" comment lines as errors; they are accepted here.
    const QStringList keys = s.allKeys();
    if (s.status() == QSettings::FormatError) {
        if (const QString line = malformedLine(path); !line.isEmpty())
            return makeError("config_invalid", QStringLiteral("%1: not a valid INI file: %2 (see "
                                                              "docs/configuration.md)")
                                                   .arg(path, line));
    }
    configFile = QFileInfo(path).absoluteFilePath();
    const QString dir = QFileInfo(path).absolutePath();
    const QStringList known = knownKeys();
    for (const QString &rawKey : keys) {
        const QString key = rawKey.contains('/') ? QString(rawKey).replace('/', '.') : rawKey;
        if (key.section('.', -1).startsWith('#'))
            continue; // a commented-out "# key = value"
        if (!known.contains(key)) {
            warnings.append(QStringLiteral("%1: unknown key \"%2\" ignored").arg(path, key));
            continue;
        }
        const QVariant v = s.value(rawKey);
        QString value =
            v.typeId() == QMetaType::QStringList ? v.toStringList().join(',') : v.toString();
        if (key == "executor.command_allow_list")
            value = v.toStringList().join('\n');
        // Relative paths in a file are relative to that file.
        if ((key == "paths.workspace" || key == "paths.state_dir" || key == "auth.secret_file") &&
            !value.isEmpty() && QDir::isRelativePath(value))
            value = QDir(dir).absoluteFilePath(value);
        if (Status st = set(key, value, path); !st.ok())
            return st;
    }
    return {};
}

Status Config::loadEnvironment()
{
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const EnvKey &e : kEnv) {
        const QString name = QLatin1String(e.env);
        if (env.contains(name)) {
            if (Status s = set(QLatin1String(e.key), env.value(name), name); !s.ok())
                return s;
        }
    }
    return {};
}

Status Config::finalize()
{
    if (stateDir.isEmpty())
        stateDir = defaultStateDir();
    stateDir = QDir::cleanPath(QDir::current().absoluteFilePath(stateDir));
    if (workspace.isEmpty())
        workspace = QDir::currentPath();
    workspace = QDir::cleanPath(QDir::current().absoluteFilePath(workspace));
    if (!secretFile.isEmpty()) {
        const Result<QByteArray> s = readSecretFileTrimmed(secretFile);
        if (!s.ok())
            return s.error();
        secret = *s;
    }
    if (role == "relay" && runnerUrl.isEmpty())
        return makeError("config_invalid", "the relay role needs a runner URL: pass --runner-url "
                                           "URL or set relay.runner_url");
    if (backoffMaxMs < backoffInitialMs)
        return makeError("config_invalid", "relay.backoff_max_ms must not be below "
                                           "relay.backoff_initial_ms");
    QHostAddress address(bind);
    if (!address.isLoopback() && secret.isEmpty())
        return makeError("config_invalid",
                         QStringLiteral("refusing to listen on %1 without authentication: set "
                                        "--secret-file FILE (or bind to 127.0.0.1)")
                             .arg(bind));
    if (readAccess == "token" && secret.isEmpty())
        return makeError("config_invalid", "server.read_access = token needs a secret "
                                           "(--secret-file)");
    return {};
}

QString Config::toIni() const
{
    QString out;
    auto line = [&](const QString &k, const QString &v) { out += k + " = " + v + '\n'; };
    out += QStringLiteral("; effective configuration%1\n")
               .arg(configFile.isEmpty() ? QString() : " (file: " + configFile + ")");
    out += "[server]\n";
    line("bind", bind);
    line("port", QString::number(effectivePort()));
    line("role", role);
    line("max_body_bytes", QString::number(maxBodyBytes));
    line("max_header_bytes", QString::number(maxHeaderBytes));
    line("max_header_count", QString::number(maxHeaderCount));
    line("idle_timeout_s", QString::number(idleTimeoutS));
    line("request_timeout_s", QString::number(requestTimeoutS));
    line("max_connections", QString::number(maxConnections));
    line("max_queue", QString::number(maxQueue));
    line("max_wait_s", QString::number(maxWaitS));
    line("read_access", readAccess);
    out += "\n[paths]\n";
    line("workspace", workspace);
    line("state_dir", stateDir);
    out += "\n[auth]\n";
    line("secret_file", secretFile);
    // A comment, so that reading this text back never sets the mask as the secret.
    out += QStringLiteral("; secret = %1\n").arg(secret.isEmpty() ? "(none)" : "******** (set)");
    line("tolerance_s", QString::number(toleranceS));
    out += "\n[relay]\n";
    line("runner_url", runnerUrl);
    line("max_attempts", QString::number(maxAttempts));
    line("max_age_s", QString::number(maxAgeS));
    line("backoff_initial_ms", QString::number(backoffInitialMs));
    line("backoff_max_ms", QString::number(backoffMaxMs));
    line("connect_timeout_s", QString::number(connectTimeoutS));
    line("forward_timeout_s", QString::number(forwardTimeoutS));
    line("failing_age_s", QString::number(failingAgeS));
    out += "\n[executor]\n";
    line("allow_commands", allowCommands ? "true" : "false");
    line("command_allow_list", commandAllowList.join(", "));
    line("command_timeout_s", QString::number(commandTimeoutS));
    line("allow_git", allowGit ? "true" : "false");
    line("start_paused", startPaused ? "true" : "false");
    out += "\n[log]\n";
    line("format", logFormat);
    return out;
}

Status Config::loadFileAndEnvironment(const QString &fileFromFlag)
{
    QString file = fileFromFlag;
    if (file.isEmpty())
        file = QProcessEnvironment::systemEnvironment().value("GHOST_RUNNER_CONFIG");
    if (!file.isEmpty()) {
        if (Status s = loadFile(file); !s.ok())
            return s;
    }
    return loadEnvironment();
}
