#pragma once
// Sets keys in an INI file in place, for front ends that save settings into a file a person may
// have written: comments, blank lines, the order of sections and keys, and every key not set
// here stay as they were (QSettings would rewrite the whole file and drop the comments). Values
// are written so that QSettings, which reads the file (Config::loadFile), reads them back as
// given.

#include "result.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <utility>

namespace IniFile {
// "section/key" and its new value.
using Assignment = std::pair<QString, QString>;

// The text with each key set: its line rewritten where it is (every such line, if it appears
// more than once), else added after the last line of its section, else in a new section at the
// end. Line endings follow the text's own.
QByteArray edited(const QByteArray &text, const QList<Assignment> &assignments);

// One value as it goes after "key = ": as is when QSettings reads it back unchanged, else quoted.
QByteArray encodeValue(const QString &value);

// edited() on the file (a missing file is empty), written to a temporary file beside it, synced
// and renamed over it, so that a crash leaves the old file or the new one.
Status setValues(const QString &path, const QList<Assignment> &assignments);
} // namespace IniFile
