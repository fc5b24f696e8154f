#pragma once
// Filters the deliveries table by status ("failed", or "problems" for failed/rejected/dead) and
// by text (patch id, delivery id, format, error message), case-insensitively.

#include <QSortFilterProxyModel>

class DeliveryFilterModel final : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit DeliveryFilterModel(QObject *parent = nullptr);
    void setStatus(const QString &status); // empty: all
    void setText(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_status;
    QString m_text;
};
