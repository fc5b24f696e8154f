#include "commandrunner.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <csignal>
#include <unistd.h>

Status CommandRunner::check(const QString &command) const
{
    if (!m_policy.allowed)
        return makeError("command_not_allowed",
                         QStringLiteral("this patch runs a command (\"%1\") but commands are off; "
                                        "enable executor.allow_commands to accept it")
                             .arg(command.left(80)));
    if (command.trimmed().isEmpty())
        return makeError("bad_patch", "the command is empty");
    if (m_policy.allowList.isEmpty())
        return {};
    for (const QString &pattern : m_policy.allowList) {
        const QRegularExpression re(QRegularExpression::anchoredPattern(pattern));
        if (re.isValid() && re.match(command).hasMatch())
            return {};
    }
    return makeError("command_not_allowed", QStringLiteral("the command \"%1\" matches no entry of "
                                                           "executor.command_allow_list")
                                                .arg(command.left(80)));
}

Result<QString> CommandRunner::run(const QString &command, const QString &workdir) const
{
    if (Status s = check(command); !s.ok())
        return s.error();
    QProcess p;
    p.setWorkingDirectory(workdir);
    p.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env;
    const QProcessEnvironment parent = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER"}) {
        if (parent.contains(name))
            env.insert(name, parent.value(name));
    }
    env.insert("GHOST_RUNNER_WORKSPACE", workdir);
    p.setProcessEnvironment(env);
    // Its own process group, so a timeout kills what the shell started too, not just the shell.
    p.setChildProcessModifier([] { ::setsid(); });
    p.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), command});
    if (!p.waitForStarted(5000))
        return makeError("command_failed",
                         QStringLiteral("cannot start /bin/sh: %1").arg(p.errorString()));
    const bool finished = p.waitForFinished(m_policy.timeoutMs);
    QByteArray output = p.readAll();
    if (output.size() > m_policy.maxOutputBytes)
        output = output.left(m_policy.maxOutputBytes) + "\n[output truncated]";
    const QString text = QString::fromUtf8(output);
    if (!finished) {
        if (const qint64 pid = p.processId(); pid > 1) // never kill(0) or kill(-1)
            ::kill(-pid_t(pid), SIGKILL);
        p.kill();
        p.waitForFinished(2000);
        Error e = makeError("command_timeout", QStringLiteral("the command \"%1\" did not finish "
                                                              "within %2 s and was killed")
                                                   .arg(command.left(80))
                                                   .arg(m_policy.timeoutMs / 1000.0));
        e.detail = text;
        return e;
    }
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        const QString how = p.exitStatus() != QProcess::NormalExit
                                ? QStringLiteral("was killed by a signal")
                                : QStringLiteral("failed with exit status %1").arg(p.exitCode());
        Error e = makeError("command_failed",
                            QStringLiteral("the command \"%1\" %2").arg(command.left(80), how));
        e.detail = text;
        return e;
    }
    return text;
}
