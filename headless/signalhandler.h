#pragma once
// Turns SIGTERM, SIGINT and SIGHUP into Qt signals, through a self-pipe (async-signal-safe).

#include <QObject>

class QSocketNotifier;

class SignalHandler final : public QObject
{
    Q_OBJECT
public:
    explicit SignalHandler(QObject *parent = nullptr);
    ~SignalHandler() override;

signals:
    void terminate(int signal); // SIGTERM or SIGINT
    void reload();              // SIGHUP

private:
    QSocketNotifier *m_notifier = nullptr;
};
