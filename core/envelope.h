#pragma once
// One patch envelope as received (SPEC.md "Patch envelope"), parsed and validated into a value:
// the patch id, its format (detected when "auto"), and a hash of its canonical JSON that tells a
// repeated delivery from a conflicting one.

#include "result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

class Envelope
{
public:
    static Result<Envelope> parse(const QByteArray &body);
    // The formats an envelope may name; "auto" detects one of the others.
    static const QStringList &knownFormats();
    static Error unknownFormat(const QString &format); // "unknown_format", listing the known ones
    // Which format a body is in, from its fields and text (empty when none fits).
    static QString detectFormat(const QJsonObject &json);
    // Which text format a raw patch is in (unified, apply_patch, search_replace; empty if none).
    static QString detectTextFormat(const QByteArray &text);
    // An envelope around raw patch text that is not JSON (ghost-runner apply FILE): the text is
    // kept as bytes, never escaped into JSON and parsed back. format may be "auto".
    static Result<Envelope> fromText(const QByteArray &text, const QString &id,
                                     const QString &format, bool dryRun);

    QString id;
    QString format; // concrete: never "auto" after parse()
    QString requestedFormat;
    QString description;
    bool dryRun = false;
    QJsonObject json;
    QByteArray body;     // exactly the bytes received
    QByteArray bodyHash; // hex sha256 of the canonical (compact, key-sorted) JSON; empty from
                         // fromText() (an offline apply is never journaled)

    // The text of text formats: "patch", or "diff" (or the raw text of fromText()).
    QString patchText() const;
    QByteArray patchBytes() const; // the same, as UTF-8

private:
    QByteArray m_rawPatch; // set by fromText() only
};
