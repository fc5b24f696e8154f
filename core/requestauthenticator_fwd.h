#pragma once
// Reading a secret file: trimmed of surrounding whitespace, refused when unreadable or empty.

#include "result.h"

#include <QByteArray>
#include <QFile>

inline Result<QByteArray> readSecretFileTrimmed(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return makeError(
            "config_invalid",
            QStringLiteral("%1: cannot read the secret file: %2").arg(path, f.errorString()));
    const QByteArray s = f.readAll().trimmed();
    if (s.isEmpty())
        return makeError("config_invalid",
                         QStringLiteral("%1: the secret file is empty").arg(path));
    return s;
}
