#include "engineoptions.h"

#include <QProcessEnvironment>

void EngineOptions::addTo(QCommandLineParser &p)
{
    p.addOption({"config", "Read settings from FILE (INI; see docs/configuration.md).", "FILE"});
    p.addOption({"bind", "Listen on ADDR (default 127.0.0.1).", "ADDR"});
    p.addOption({"port", "Listen on port N (default 5555; runner 5053; 0 picks a free one).", "N"});
    p.addOption({"workspace", "Apply patches inside DIR (default: the current directory).", "DIR"});
    p.addOption({"state-dir", "Keep the journal, log and patch copies in DIR.", "DIR"});
    p.addOption({"role", "all-in-one (default), relay or runner.", "ROLE"});
    p.addOption({"runner-url", "Relay role: forward deliveries to the runner at URL.", "URL"});
    p.addOption({"secret-file", "Read the shared webhook secret from FILE.", "FILE"});
}

Result<Config> EngineOptions::build(const QCommandLineParser &p)
{
    Config c;
    if (Status s = c.loadFileAndEnvironment(p.value("config")); !s.ok())
        return s.error();
    const struct
    {
        const char *flag;
        const char *key;
    } flags[] = {{"bind", "server.bind"},
                 {"port", "server.port"},
                 {"role", "server.role"},
                 {"workspace", "paths.workspace"},
                 {"state-dir", "paths.state_dir"},
                 {"runner-url", "relay.runner_url"},
                 {"secret-file", "auth.secret_file"}};
    for (const auto &f : flags) {
        if (p.isSet(f.flag)) {
            if (Status s = c.set(f.key, p.value(f.flag), QStringLiteral("--%1").arg(f.flag));
                !s.ok())
                return s.error();
        }
    }
    if (Status s = c.finalize(); !s.ok())
        return s.error();
    return c;
}
