#include "deliverieswindow.h"

#include "deliveryfiltermodel.h"
#include "deliverytablemodel.h"
#include "qtcompat.h"
#include "trayicon.h"

#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

DeliveriesWindow::DeliveriesWindow(QWidget *parent)
    : QWidget(parent), m_model(new DeliveryTableModel(this)),
      m_filter(new DeliveryFilterModel(this))
{
    setWindowTitle(QStringLiteral("Ghost Runner — Deliveries"));
    m_filter->setSourceModel(m_model);

    m_status = new QComboBox;
    const QList<QPair<QString, QString>> statuses = {{"All", ""},
                                                     {"Problems", "problems"},
                                                     {"Pending", "pending"},
                                                     {"Applied", "applied"},
                                                     {"Failed", "failed"},
                                                     {"Rejected", "rejected"},
                                                     {"Dead", "dead"}};
    for (const auto &s : statuses)
        m_status->addItem(s.first, s.second);
    m_search = new QLineEdit;
    m_search->setPlaceholderText(QStringLiteral("Filter by patch id, delivery id or error"));
    m_search->setClearButtonEnabled(true);
    auto *filters = new QHBoxLayout;
    filters->addWidget(new QLabel(QStringLiteral("Status:")));
    filters->addWidget(m_status);
    filters->addWidget(m_search, 1);

    m_table = new QTableView;
    m_table->setModel(m_filter);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(DeliveryTableModel::PatchId,
                                                      QHeaderView::Stretch);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);

    m_detail = new QTextBrowser;
    m_detail->setOpenLinks(false);
    m_replay = new QPushButton(QStringLiteral("Replay"));
    m_replay->setEnabled(false);
    m_message = new QLabel;
    m_message->setWordWrap(true);
    auto *detailBox = new QWidget;
    auto *detailLayout = new QVBoxLayout(detailBox);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    detailLayout->addWidget(m_detail, 1);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_message, 1);
    buttons->addWidget(m_replay);
    detailLayout->addLayout(buttons);

    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(m_table);
    split->addWidget(detailBox);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(split, 1);
    resize(820, 640);

    connect(m_status, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setStatus(m_status->currentData().toString()); });
    connect(m_search, &QLineEdit::textChanged, m_filter, &DeliveryFilterModel::setText);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &DeliveriesWindow::onSelectionChanged);
    connect(m_replay, &QPushButton::clicked, this, [this] {
        if (!m_current.isEmpty())
            emit replayRequested(m_current);
    });
}

void DeliveriesWindow::setDeliveries(const QList<Delivery> &deliveries)
{
    const QString keep = m_current;
    m_model->setDeliveries(deliveries);
    if (!keep.isEmpty()) {
        const int row = m_model->rowOf(keep);
        if (row >= 0) {
            const QModelIndex idx = m_filter->mapFromSource(m_model->index(row, 0));
            QSignalBlocker block(m_table->selectionModel());
            m_table->setCurrentIndex(idx);
        }
    }
}

void DeliveriesWindow::selectDelivery(const QString &id)
{
    const int row = m_model->rowOf(id);
    if (row >= 0) {
        QModelIndex idx = m_filter->mapFromSource(m_model->index(row, 0));
        if (!idx.isValid()) { // hidden by the filter: show everything
            m_status->setCurrentIndex(0);
            m_search->clear();
            idx = m_filter->mapFromSource(m_model->index(row, 0));
        }
        QSignalBlocker block(m_table->selectionModel());
        m_table->setCurrentIndex(idx);
        m_table->scrollTo(idx);
    }
    m_current = id;
    emit detailRequested(id);
}

void DeliveriesWindow::onSelectionChanged()
{
    const QModelIndex idx = m_table->currentIndex();
    const QString id = idx.data(DeliveryTableModel::DeliveryIdRole).toString();
    if (id.isEmpty() || id == m_current)
        return;
    m_current = id;
    emit detailRequested(id);
}

void DeliveriesWindow::showDetail(const Delivery &d, const QByteArray &patchText)
{
    if (d.id != m_current)
        return; // an answer for a delivery no longer selected
    m_detail->setHtml(detailHtml(d, patchText));
    m_replay->setEnabled(d.isFinal());
    m_message->clear();
}

void DeliveriesWindow::showMessage(const QString &message)
{
    m_message->setText(message);
}

QString DeliveriesWindow::detailText() const
{
    return m_detail->toPlainText();
}

QString DeliveriesWindow::detailHtml(const Delivery &d, const QByteArray &patchText)
{
    auto esc = [](const QString &s) { return s.toHtmlEscaped(); };
    auto time = [](qint64 ms) {
        return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms).toString("yyyy-MM-dd HH:mm:ss.zzz")
                      : QString();
    };
    const bool bad = d.isFinal() && d.status != QLatin1String("applied");
    QString h;
    h += QStringLiteral("<h3>%1 %2</h3>").arg(TrayIcon::outcomeMark(d.status), esc(d.patchId));
    h += QStringLiteral("<p><b style='color:%1'>%2</b> · format %3 · delivery <code>%4</code>")
             .arg(bad ? "#d23a2f" : (d.status == "applied" ? "#2e9d4f" : "#555"), esc(d.status),
                  esc(d.format.isEmpty() ? QStringLiteral("?") : d.format), esc(d.id));
    if (d.isFinal())
        h += QStringLiteral(" · %1 ms").arg(d.outcome.durationMs, 0, 'f', 1);
    if (!d.replayOf.isEmpty())
        h += QStringLiteral(" · replay of <code>%1</code>").arg(esc(d.replayOf));
    h += QStringLiteral("</p>");
    const Error &e = d.outcome.error;
    if (!e.isNull()) {
        h += QStringLiteral("<h4>Error</h4><p style='color:#d23a2f'><b>%1</b>: %2</p>")
                 .arg(esc(e.code), esc(e.message));
        QStringList where;
        if (!e.file.isEmpty())
            where << QStringLiteral("file %1").arg(esc(e.file));
        if (e.hunk > 0)
            where << QStringLiteral("hunk %1").arg(e.hunk);
        if (e.line > 0)
            where << QStringLiteral("near line %1").arg(e.line);
        if (!where.isEmpty())
            h += QStringLiteral("<p>%1</p>").arg(where.join(QStringLiteral(", ")));
        if (!e.detail.isEmpty())
            h += QStringLiteral("<pre>%1</pre>").arg(esc(e.detail));
    }
    h += QStringLiteral("<h4>Timeline</h4><table cellspacing='0' cellpadding='2'>");
    for (const DeliveryEvent &ev : d.events) {
        QString detail;
        if (!ev.detail.isEmpty())
            detail = QString::fromUtf8(QJsonDocument(ev.detail).toJson(QJsonDocument::Compact));
        h += QStringLiteral("<tr><td>%1</td><td><b>%2</b></td><td>%3</td></tr>")
                 .arg(time(ev.atMs), esc(ev.state), esc(detail));
    }
    if (d.events.isEmpty())
        h += QStringLiteral("<tr><td>received %1</td></tr>").arg(time(d.receivedAtMs));
    h += QStringLiteral("</table>");
    h += QStringLiteral("<h4>Files touched</h4>");
    if (d.outcome.files.isEmpty()) {
        h += QStringLiteral("<p>none%1</p>")
                 .arg(bad ? QStringLiteral(" (a failed patch leaves the workspace unchanged)")
                          : QString());
    } else {
        h += QStringLiteral("<ul>");
        for (const QJsonValue &f : d.outcome.files) {
            const QJsonObject o = f.toObject();
            h += QStringLiteral("<li><code>%1</code> %2</li>")
                     .arg(esc(o.value("path").toString()), esc(o.value("action").toString()));
        }
        h += QStringLiteral("</ul>");
    }
    h += QStringLiteral("<h4>Patch as received</h4>");
    if (patchText.isEmpty()) {
        h += QStringLiteral("<p><i>not available here</i></p>");
    } else {
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(patchText, &err);
        const QString text = err.error == QJsonParseError::NoError
                                 ? QString::fromUtf8(doc.toJson(QJsonDocument::Indented))
                                 : QString::fromUtf8(patchText);
        h += QStringLiteral("<pre>%1</pre>").arg(esc(text.left(200000)));
    }
    return h;
}
