#pragma once
// Reading a patch from a file or stdin, as `apply` and `send` take it: a JSON envelope as is, or
// raw patch text (a diff, *** Begin Patch, SEARCH/REPLACE) wrapped into one.

#include "envelope.h"
#include "result.h"

#include <QByteArray>
#include <QString>

class PatchInput
{
public:
    static Result<QByteArray> read(const QString &nameOrDash);
    // The envelope JSON to send or apply. format "auto" leaves detection to the executor.
    static QByteArray toEnvelope(const QByteArray &input, const QString &format, bool dryRun,
                                 const QString &name);
    // The envelope to apply here: a JSON envelope parsed, or raw patch text kept as bytes (no
    // JSON round trip, which would cost more than applying a large diff).
    static Result<Envelope> toApplyEnvelope(const QByteArray &input, const QString &format,
                                            bool dryRun, const QString &name);
    // A patch id for raw text from a file: its name and 8 random hex digits.
    static QString idFor(const QString &name);
    static bool isJsonObject(const QByteArray &input);
};
