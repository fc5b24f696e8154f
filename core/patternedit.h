#pragma once
// The legacy `pattern` format: {"target_file", "patch":{"pattern","replacement"}}. A pattern with
// regex metacharacters is a regex (dot matches newline, Python-style \1 and \g<1> in the
// replacement); otherwise it is replaced literally everywhere. Zero matches is a failure.

#include "stagedtree.h"

#include <QJsonObject>

class PatternEdit
{
public:
    static Status apply(const QJsonObject &envelope, StagedTree &tree);
    static bool isRegex(const QString &pattern);
};
