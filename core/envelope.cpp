#include "envelope.h"

#include "searchreplaceparser.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>

namespace {
Error envelopeError(const QString &code, const QString &message)
{
    return makeError(code, message);
}

// QJsonDocument refuses nesting deeper than its own limit; keep ours lower and explicit.
bool nestingWithin(const QByteArray &body, int limit)
{
    int depth = 0;
    bool inString = false;
    for (qsizetype i = 0; i < body.size(); ++i) {
        const char c = body.at(i);
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit)
                return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}
} // namespace

Error Envelope::unknownFormat(const QString &format)
{
    return envelopeError("unknown_format",
                         QStringLiteral("unknown format \"%1\"; use one of %2")
                             .arg(format, knownFormats().join(QStringLiteral(", "))));
}

const QStringList &Envelope::knownFormats()
{
    static const QStringList formats{"auto",        "pattern",        "mutations", "unified",
                                     "apply_patch", "search_replace", "command"};
    return formats;
}

QString Envelope::detectFormat(const QJsonObject &json)
{
    if (json.value("role").toString() == QLatin1String("command_patch"))
        return QStringLiteral("command");
    if (json.value("mutations").isArray())
        return QStringLiteral("mutations");
    if (json.value("patch").isObject())
        return QStringLiteral("pattern");
    QString text = json.value("patch").toString();
    if (text.isEmpty())
        text = json.value("diff").toString();
    return detectTextFormat(text.toUtf8());
}

QString Envelope::detectTextFormat(const QByteArray &text)
{
    if (text.isEmpty())
        return QString();
    const QByteArray head = text.left(4096);
    if (head.trimmed().startsWith("*** Begin Patch") || head.contains("\n*** Begin Patch"))
        return QStringLiteral("apply_patch");
    if (text.contains("<<<<<") && SearchReplaceParser::looksLike(text))
        return QStringLiteral("search_replace");
    if (head.startsWith("diff ") || head.contains("\n--- ") || head.startsWith("--- ") ||
        head.contains("\n@@ ") || head.startsWith("@@ "))
        return QStringLiteral("unified");
    return QString();
}

Result<Envelope> Envelope::fromText(const QByteArray &text, const QString &id,
                                    const QString &format, bool dryRun)
{
    if (!knownFormats().contains(format))
        return unknownFormat(format);
    Envelope e;
    e.id = id;
    e.requestedFormat = format;
    e.format = format == QLatin1String("auto") ? detectTextFormat(text) : format;
    if (e.format.isEmpty())
        return envelopeError("unknown_format",
                             "cannot tell the patch format: give --format, or a patch in one of "
                             "the formats in the documentation");
    e.dryRun = dryRun;
    e.json.insert("id", id);
    e.json.insert("format", e.format);
    e.body = text;
    e.m_rawPatch = text; // no bodyHash: only the daemon's journal uses it, and it never sees these
    return e;
}

QByteArray Envelope::patchBytes() const
{
    return m_rawPatch.isNull() ? patchText().toUtf8() : m_rawPatch;
}

QString Envelope::patchText() const
{
    if (!m_rawPatch.isNull())
        return QString::fromUtf8(m_rawPatch);
    const QJsonValue patch = json.value("patch");
    if (patch.isString())
        return patch.toString();
    return json.value("diff").toString();
}

Result<Envelope> Envelope::parse(const QByteArray &body)
{
    if (body.trimmed().isEmpty())
        return envelopeError("bad_json", "the body is empty; send a JSON patch envelope");
    if (!nestingWithin(body, 64))
        return envelopeError("bad_json", "the JSON is nested more than 64 levels deep");
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError)
        return envelopeError("bad_json", QStringLiteral("the body is not valid JSON: %1 at "
                                                        "offset %2")
                                             .arg(pe.errorString())
                                             .arg(pe.offset));
    if (!doc.isObject())
        return envelopeError("bad_envelope", "the body must be a JSON object (a patch envelope)");
    Envelope e;
    e.json = doc.object();
    e.body = body;
    const QJsonValue id = e.json.value("id");
    if (id.isUndefined() || id.isNull())
        return envelopeError("missing_id", "the envelope has no \"id\"; give every patch a "
                                           "unique id");
    if (!id.isString() || id.toString().trimmed().isEmpty())
        return envelopeError("bad_envelope", "\"id\" must be a non-empty string");
    e.id = id.toString();
    if (e.id.size() > 256)
        return envelopeError("bad_envelope", "\"id\" is longer than 256 characters");
    for (QChar c : e.id) {
        if (c.category() == QChar::Other_Control) // C0, DEL and C1 (CSI): terminal escapes
            return envelopeError("bad_envelope", "\"id\" contains a control character");
    }
    const QJsonValue format = e.json.value("format");
    if (!format.isUndefined() && !format.isString())
        return envelopeError("bad_envelope", "\"format\" must be a string");
    e.requestedFormat = format.toString(QStringLiteral("auto"));
    if (!knownFormats().contains(e.requestedFormat))
        return unknownFormat(e.requestedFormat);
    e.format = e.requestedFormat;
    if (e.format == QLatin1String("auto")) {
        e.format = detectFormat(e.json);
        if (e.format.isEmpty())
            return envelopeError("unknown_format",
                                 "cannot tell the patch format: give \"format\", or a body of one "
                                 "of the formats in the documentation");
    }
    e.description = e.json.value("description").toString();
    const QJsonValue dry = e.json.value("dry_run");
    if (!dry.isUndefined() && !dry.isBool())
        return envelopeError("bad_envelope", "\"dry_run\" must be true or false");
    e.dryRun = dry.toBool(false);
    e.bodyHash =
        QCryptographicHash::hash(doc.toJson(QJsonDocument::Compact), QCryptographicHash::Sha256)
            .toHex();
    return e;
}
