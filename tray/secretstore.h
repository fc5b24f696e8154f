#pragma once
// Where the tray keeps the webhook secret: the OS keychain through QtKeychain when the build has
// it (macOS Keychain, Secret Service / KWallet on Linux); otherwise, or when the keychain
// refuses, a secret file with 0600 permissions. Never the INI file, never plain settings.

#include "result.h"

#include <QByteArray>
#include <QString>

class SecretStore
{
public:
    // account: which engine the secret belongs to (its state directory).
    explicit SecretStore(QString account, QString fallbackFile);

    static bool keychainBuiltIn();
    // Empty with ok(): no secret stored.
    Result<QByteArray> readKeychain() const;
    // Stores the secret; returns the file it wrote when it had to fall back to a file (empty:
    // the keychain has it). An empty secret removes it.
    Result<QString> write(const QByteArray &secret) const;
    static Status writeSecretFile(const QString &path, const QByteArray &secret);
    QString fallbackFile() const { return m_file; }

private:
    QString m_account;
    QString m_file;
};
