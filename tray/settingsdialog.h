#pragma once
// Settings: the engine's address, role, workspace, runner URL and secret, which notifications to
// show, and start at login. It only edits values; TrayApplication validates and applies them
// (Engine::reload, no restart) and stores the secret through SecretStore.

#include "config.h"
#include "notifier.h"

#include <QDialog>
#include <QHash>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

struct TraySettings
{
    QString bind;
    int port = 5555;
    QString role;
    QString workspace;
    QString runnerUrl;
    QByteArray secret; // meaningful only when secretChanged
    bool secretChanged = false;
    QHash<int, bool> notify; // NotificationKind -> enabled
    bool startAtLogin = false;
};

class SettingsDialog final : public QDialog
{
    Q_OBJECT
public:
    // keychainNote: one sentence on where the secret goes (keychain, or a 0600 file).
    SettingsDialog(const TraySettings &current, const QString &keychainNote, bool attachMode,
                   QWidget *parent = nullptr);

    TraySettings values() const;
    void showError(const QString &message);

signals:
    void applyRequested(const TraySettings &settings);

private:
    QLineEdit *m_bind;
    QSpinBox *m_port;
    QComboBox *m_role;
    QLineEdit *m_workspace;
    QLineEdit *m_runnerUrl;
    QLineEdit *m_secret;
    QHash<int, QCheckBox *> m_notify;
    QCheckBox *m_login;
    QLabel *m_error;
    TraySettings m_initial;
};
