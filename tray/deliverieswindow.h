#pragma once
// The deliveries window: the journal as a filterable table, and one delivery's detail (timeline,
// error, files touched, the received patch text) with a replay button. It asks for details and
// replays through signals; TrayApplication answers from the engine or the attached daemon.

#include "delivery.h"

#include <QWidget>

class DeliveryFilterModel;
class DeliveryTableModel;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTextBrowser;

class DeliveriesWindow final : public QWidget
{
    Q_OBJECT
public:
    explicit DeliveriesWindow(QWidget *parent = nullptr);

    DeliveryTableModel *model() const { return m_model; }
    void setDeliveries(const QList<Delivery> &deliveries);
    // Selects the delivery's row (if listed) and asks for its detail.
    void selectDelivery(const QString &deliveryId);
    // patchText: the body as received, or empty when it is not available here.
    void showDetail(const Delivery &delivery, const QByteArray &patchText);
    void showMessage(const QString &message);
    QString currentDeliveryId() const { return m_current; }
    QString detailText() const;

    static QString detailHtml(const Delivery &delivery, const QByteArray &patchText);

signals:
    void detailRequested(const QString &deliveryId);
    void replayRequested(const QString &deliveryId);

private:
    void onSelectionChanged();

    DeliveryTableModel *m_model;
    DeliveryFilterModel *m_filter;
    QComboBox *m_status;
    QLineEdit *m_search;
    QTableView *m_table;
    QTextBrowser *m_detail;
    QPushButton *m_replay;
    QLabel *m_message;
    QString m_current;
};
