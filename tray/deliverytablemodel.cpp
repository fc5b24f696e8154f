#include "deliverytablemodel.h"

#include "deliveryjournal.h"
#include "trayicon.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>

DeliveryTableModel::DeliveryTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void DeliveryTableModel::setDeliveries(const QList<Delivery> &deliveries)
{
    beginResetModel();
    m_rows = deliveries;
    endResetModel();
}

Status DeliveryTableModel::reload(const DeliveryJournal &journal, int limit)
{
    DeliveryFilter f;
    f.limit = limit;
    const Result<QList<Delivery>> list = journal.list(f);
    if (!list.ok())
        return list.error();
    setDeliveries(*list);
    return {};
}

void DeliveryTableModel::upsert(const Delivery &d)
{
    const int row = rowOf(d.id);
    if (row >= 0) {
        m_rows[row] = d;
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        return;
    }
    beginInsertRows({}, 0, 0);
    m_rows.prepend(d);
    endInsertRows();
}

const Delivery *DeliveryTableModel::deliveryAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

int DeliveryTableModel::rowOf(const QString &id) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).id == id)
            return i;
    }
    return -1;
}

int DeliveryTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int DeliveryTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeliveryTableModel::data(const QModelIndex &index, int role) const
{
    const Delivery *d = deliveryAt(index.row());
    if (!d)
        return {};
    if (role == DeliveryIdRole)
        return d->id;
    if (role == StatusRole)
        return d->status;
    if (role == Qt::ToolTipRole)
        return d->outcome.error.message.isEmpty() ? d->id : d->outcome.error.message;
    if (role == Qt::ForegroundRole && index.column() == Outcome) {
        if (d->status == QLatin1String("applied"))
            return QBrush(QColor(0x2e, 0x9d, 0x4f));
        if (d->isFinal())
            return QBrush(QColor(0xd2, 0x3a, 0x2f));
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case PatchId:
        return d->patchId;
    case Received:
        return d->receivedAtMs > 0
                   ? QDateTime::fromMSecsSinceEpoch(d->receivedAtMs).toString("yyyy-MM-dd HH:mm:ss")
                   : QString();
    case Format:
        return d->format;
    case Outcome:
        return TrayIcon::outcomeMark(d->status) + QLatin1Char(' ') + d->status;
    case Duration:
        return d->isFinal() ? QStringLiteral("%1 ms").arg(d->outcome.durationMs, 0, 'f', 1)
                            : QString();
    }
    return {};
}

QVariant DeliveryTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[] = {"Patch id", "Received", "Format", "Outcome", "Duration"};
    return section >= 0 && section < ColumnCount ? QString::fromLatin1(names[section]) : QString();
}
