#pragma once
// Shared test fixtures: temporary trees, the real ghost-runner process, blocking HTTP calls.

#include <QByteArray>
#include <QMap>
#include <QString>

namespace TestSupport {
// Writes files (relative path -> contents) under dir, creating parent directories.
void writeTree(const QString &dir, const QMap<QString, QByteArray> &files);
// Reads every regular file under dir (relative path -> contents); symlinks reported as "->target".
QMap<QString, QByteArray> readTree(const QString &dir);
QByteArray readFile(const QString &path);
} // namespace TestSupport
