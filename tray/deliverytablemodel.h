#pragma once
// The deliveries window's table: one row per delivery (patch id, received, format, outcome,
// duration), newest first, read from the journal in-process or from GET /deliveries.

#include "delivery.h"

#include <QAbstractTableModel>

class DeliveryJournal;

class DeliveryTableModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { PatchId, Received, Format, Outcome, Duration, ColumnCount };
    enum Role { DeliveryIdRole = Qt::UserRole + 1, StatusRole };

    explicit DeliveryTableModel(QObject *parent = nullptr);

    void setDeliveries(const QList<Delivery> &deliveries);
    // Reads the newest `limit` deliveries; a storage error is returned, the rows are kept.
    Status reload(const DeliveryJournal &journal, int limit = 500);
    // Inserts a new delivery at the top or updates the row with its id.
    void upsert(const Delivery &delivery);
    const Delivery *deliveryAt(int row) const;
    int rowOf(const QString &deliveryId) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QList<Delivery> m_rows;
};
