#pragma once
// One delivery or log line, printed for people: status, id, format, files, error — coloured on a
// terminal unless NO_COLOR is set.

#include <QJsonObject>
#include <QTextStream>

class OutcomePrinter
{
public:
    // record: a /deliveries/{id} record or a confirmation-log line.
    static void print(QTextStream &out, const QJsonObject &record, bool oneLine);
    static bool useColor(FILE *stream);
};
