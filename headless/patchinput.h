#pragma once
// Reading a patch from a file or stdin, as `apply` and `send` take it: a JSON envelope as is, or
// raw patch text (a diff, *** Begin Patch, SEARCH/REPLACE) wrapped into one.

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
};
