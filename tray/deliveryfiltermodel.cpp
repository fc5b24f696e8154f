#include "deliveryfiltermodel.h"

#include "deliverytablemodel.h"

DeliveryFilterModel::DeliveryFilterModel(QObject *parent) : QSortFilterProxyModel(parent) {}

void DeliveryFilterModel::setStatus(const QString &status)
{
    m_status = status;
    invalidateFilter();
}

void DeliveryFilterModel::setText(const QString &text)
{
    m_text = text.trimmed();
    invalidateFilter();
}

bool DeliveryFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &) const
{
    const auto *model = qobject_cast<const DeliveryTableModel *>(sourceModel());
    const Delivery *d = model ? model->deliveryAt(sourceRow) : nullptr;
    if (!d)
        return false;
    if (m_status == QLatin1String("problems")) {
        if (!d->isFinal() || d->status == QLatin1String("applied"))
            return false;
    } else if (m_status == QLatin1String("pending")) {
        if (d->isFinal())
            return false;
    } else if (!m_status.isEmpty() && d->status != m_status) {
        return false;
    }
    if (m_text.isEmpty())
        return true;
    for (const QString &field : {d->patchId, d->id, d->format, d->outcome.error.message}) {
        if (field.contains(m_text, Qt::CaseInsensitive))
            return true;
    }
    return false;
}
