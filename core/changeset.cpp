#include "changeset.h"

#include <QJsonObject>

QString FileChange::actionName(Action a)
{
    switch (a) {
    case Action::Added:
        return QStringLiteral("added");
    case Action::Modified:
        return QStringLiteral("modified");
    case Action::Deleted:
        return QStringLiteral("deleted");
    case Action::Renamed:
        return QStringLiteral("renamed");
    }
    return QString();
}

QJsonArray ChangeSet::filesJson() const
{
    QJsonArray files;
    for (const FileChange &c : changes) {
        QJsonObject o{{"path", c.path},
                      {"action", FileChange::actionName(c.action)},
                      {"added", c.linesAdded},
                      {"removed", c.linesRemoved}};
        if (c.action == FileChange::Action::Renamed)
            o.insert("from", c.oldPath);
        if (c.mode)
            o.insert("mode", QString::number(*c.mode, 8).rightJustified(4, QLatin1Char('0')));
        files.append(o);
    }
    return files;
}
