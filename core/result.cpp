#include "result.h"

QJsonObject Error::toJson() const
{
    QJsonObject o{{"code", code}, {"message", message}};
    if (!file.isEmpty())
        o.insert("file", file);
    if (hunk > 0)
        o.insert("hunk", hunk);
    if (line > 0)
        o.insert("line", line);
    if (!detail.isEmpty())
        o.insert("detail", detail);
    return o;
}

Error Error::fromJson(const QJsonObject &o)
{
    Error e;
    e.code = o.value("code").toString();
    e.message = o.value("message").toString();
    e.file = o.value("file").toString();
    e.hunk = o.value("hunk").toInt();
    e.line = o.value("line").toInt();
    e.detail = o.value("detail").toString();
    return e;
}
