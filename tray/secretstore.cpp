#include "secretstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#ifdef GR_HAVE_KEYCHAIN
#include <QEventLoop>
#include <qt6keychain/keychain.h>
#endif

namespace {
const char *kService = "ghost-runner";
}

SecretStore::SecretStore(QString account, QString fallbackFile)
    : m_account(std::move(account)), m_file(std::move(fallbackFile))
{}

bool SecretStore::keychainBuiltIn()
{
#ifdef GR_HAVE_KEYCHAIN
    return true;
#else
    return false;
#endif
}

Result<QByteArray> SecretStore::readKeychain() const
{
#ifdef GR_HAVE_KEYCHAIN
    QKeychain::ReadPasswordJob job(QString::fromLatin1(kService));
    job.setAutoDelete(false);
    job.setKey(m_account);
    QEventLoop loop; // the keychain answers asynchronously; this is a settings-time call
    QObject::connect(&job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    job.start();
    loop.exec();
    if (job.error() == QKeychain::EntryNotFound)
        return QByteArray();
    if (job.error() != QKeychain::NoError)
        return makeError(
            "keychain_failed",
            QStringLiteral("the keychain could not be read: %1").arg(job.errorString()));
    return job.binaryData();
#else
    return makeError("keychain_missing", "this build has no keychain support (QtKeychain)");
#endif
}

Status SecretStore::writeSecretFile(const QString &path, const QByteArray &secret)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError("secret_file_failed",
                         QStringLiteral("cannot create the directory of %1").arg(path));
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return makeError("secret_file_failed",
                         QStringLiteral("cannot write %1: %2").arg(path, f.errorString()));
    // Owner read/write only, set before the secret is written.
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(secret + '\n');
    if (!f.commit())
        return makeError("secret_file_failed",
                         QStringLiteral("cannot write %1: %2").arg(path, f.errorString()));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return {};
}

Result<QString> SecretStore::write(const QByteArray &secret) const
{
#ifdef GR_HAVE_KEYCHAIN
    QEventLoop loop;
    QKeychain::Job *job = nullptr;
    QKeychain::WritePasswordJob writeJob(QString::fromLatin1(kService));
    QKeychain::DeletePasswordJob deleteJob(QString::fromLatin1(kService));
    if (secret.isEmpty()) {
        job = &deleteJob;
    } else {
        writeJob.setBinaryData(secret);
        job = &writeJob;
    }
    job->setAutoDelete(false);
    job->setKey(m_account);
    QObject::connect(job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    job->start();
    loop.exec();
    if (job->error() == QKeychain::NoError ||
        (secret.isEmpty() && job->error() == QKeychain::EntryNotFound))
        return QString();
        // The keychain refused (no Secret Service running, locked): a 0600 file instead.
#endif
    if (secret.isEmpty()) {
        QFile::remove(m_file);
        return QString();
    }
    if (Status s = writeSecretFile(m_file, secret); !s.ok())
        return s.error();
    return m_file;
}
