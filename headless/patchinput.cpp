#include "patchinput.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>
#include <algorithm>
#include <cstdio>

Result<QByteArray> PatchInput::read(const QString &name)
{
    QFile f;
    if (name == QLatin1String("-")) {
        if (!f.open(stdin, QIODevice::ReadOnly))
            return makeError("read_failed", "cannot read standard input");
    } else {
        f.setFileName(name);
        if (!f.open(QIODevice::ReadOnly))
            return makeError("read_failed",
                             QStringLiteral("cannot read %1: %2").arg(name, f.errorString()));
    }
    return f.readAll();
}

QString PatchInput::idFor(const QString &name)
{
    const QString base =
        name == QLatin1String("-") ? QStringLiteral("stdin") : QFileInfo(name).fileName();
    return QStringLiteral("%1-%2").arg(base,
                                       QUuid::createUuid().toString(QUuid::WithoutBraces).left(8));
}

bool PatchInput::isJsonObject(const QByteArray &input)
{
    // A patch text needs neither a trimmed copy of its megabytes nor a JSON parse.
    const auto first = std::find_if_not(input.cbegin(), input.cend(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    });
    if (first == input.cend() || *first != '{')
        return false;
    QJsonParseError pe;
    return QJsonDocument::fromJson(input.trimmed(), &pe).isObject() &&
           pe.error == QJsonParseError::NoError;
}

Result<Envelope> PatchInput::toApplyEnvelope(const QByteArray &input, const QString &format,
                                             bool dryRun, const QString &name)
{
    if (isJsonObject(input))
        return Envelope::parse(toEnvelope(input, format, dryRun, name));
    return Envelope::fromText(input, idFor(name), format, dryRun);
}

QByteArray PatchInput::toEnvelope(const QByteArray &input, const QString &format, bool dryRun,
                                  const QString &name)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(input, &pe);
    if (pe.error == QJsonParseError::NoError && doc.isObject() && format == QLatin1String("auto") &&
        !dryRun)
        return input; // a complete envelope: sent byte for byte
    QJsonObject json;
    if (pe.error == QJsonParseError::NoError && doc.isObject()) {
        json = doc.object();
    } else {
        json.insert("id", idFor(name));
        json.insert("patch", QString::fromUtf8(input));
    }
    if (!json.contains("id"))
        json.insert("id", "patch-" + QUuid::createUuid().toString(QUuid::WithoutBraces));
    if (format != QLatin1String("auto"))
        json.insert("format", format);
    if (dryRun)
        json.insert("dry_run", true);
    return QJsonDocument(json).toJson(QJsonDocument::Compact);
}
