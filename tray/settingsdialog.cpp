#include "settingsdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

SettingsDialog::SettingsDialog(const TraySettings &current, const QString &keychainNote,
                               bool attachMode, QWidget *parent)
    : QDialog(parent), m_initial(current)
{
    setWindowTitle(QStringLiteral("Ghost Runner — Settings"));
    auto *engine = new QGroupBox(attachMode ? QStringLiteral("Engine (watching a daemon: edit its "
                                                             "configuration file instead)")
                                            : QStringLiteral("Engine"));
    auto *form = new QFormLayout(engine);
    m_bind = new QLineEdit(current.bind);
    m_port = new QSpinBox;
    m_port->setRange(0, 65535);
    m_port->setValue(current.port);
    m_port->setSpecialValueText(QStringLiteral("any free port"));
    auto *address = new QHBoxLayout;
    address->addWidget(m_bind, 1);
    address->addWidget(new QLabel(QStringLiteral("port")));
    address->addWidget(m_port);
    form->addRow(QStringLiteral("Listen on"), address);
    m_role = new QComboBox;
    m_role->addItem(QStringLiteral("all-in-one (receive and apply)"), QStringLiteral("all-in-one"));
    m_role->addItem(QStringLiteral("relay (receive and forward)"), QStringLiteral("relay"));
    m_role->addItem(QStringLiteral("runner (apply what a relay sends)"), QStringLiteral("runner"));
    m_role->setCurrentIndex(qMax(0, m_role->findData(current.role)));
    m_role->setToolTip(QStringLiteral("Changing the role takes effect at the next start"));
    form->addRow(QStringLiteral("Role"), m_role);
    m_workspace = new QLineEdit(current.workspace);
    auto *browse = new QPushButton(QStringLiteral("Choose…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Workspace"),
                                                              m_workspace->text());
        if (!dir.isEmpty())
            m_workspace->setText(dir);
    });
    auto *ws = new QHBoxLayout;
    ws->addWidget(m_workspace, 1);
    ws->addWidget(browse);
    form->addRow(QStringLiteral("Workspace"), ws);
    m_runnerUrl = new QLineEdit(current.runnerUrl);
    m_runnerUrl->setPlaceholderText(QStringLiteral("http://runner.example:5053 (relay role)"));
    form->addRow(QStringLiteral("Runner URL"), m_runnerUrl);
    m_secret = new QLineEdit;
    m_secret->setEchoMode(QLineEdit::Password);
    m_secret->setPlaceholderText(current.secret.isEmpty()
                                     ? QStringLiteral("no secret: intake is open")
                                     : QStringLiteral("unchanged"));
    form->addRow(QStringLiteral("Webhook secret"), m_secret);
    auto *note = new QLabel(keychainNote);
    note->setObjectName(QStringLiteral("keychainNote"));
    note->setWordWrap(true);
    note->setStyleSheet(QStringLiteral("color: palette(mid)"));
    note->setMinimumHeight(2 * note->fontMetrics().lineSpacing() + 4);
    form->addRow(QString(), note);
    engine->setEnabled(!attachMode);

    auto *notify = new QGroupBox(QStringLiteral("Notify me when"));
    auto *nl = new QVBoxLayout(notify);
    for (NotificationKind k : Notifier::allKinds()) {
        auto *box = new QCheckBox(Notifier::kindLabel(k));
        box->setObjectName(Notifier::kindKey(k));
        box->setChecked(current.notify.value(int(k), true));
        nl->addWidget(box);
        m_notify.insert(int(k), box);
    }
    m_login = new QCheckBox(QStringLiteral("Start Ghost Runner at login"));
    m_login->setChecked(current.startAtLogin);
    m_error = new QLabel;
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #d23a2f"));
    m_error->hide();

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Apply |
                                         QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, this,
            [this] { emit applyRequested(values()); });
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        m_error->hide();
        emit applyRequested(values());
        if (m_error->isHidden())
            accept();
    });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(engine);
    layout->addWidget(notify);
    layout->addWidget(m_login);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    setMinimumWidth(520);
}

TraySettings SettingsDialog::values() const
{
    TraySettings s = m_initial;
    s.bind = m_bind->text().trimmed();
    s.port = m_port->value();
    s.role = m_role->currentData().toString();
    s.workspace = m_workspace->text().trimmed();
    s.runnerUrl = m_runnerUrl->text().trimmed();
    s.secretChanged = !m_secret->text().isEmpty();
    s.secret = s.secretChanged ? m_secret->text().trimmed().toUtf8() : m_initial.secret;
    for (auto it = m_notify.constBegin(); it != m_notify.constEnd(); ++it)
        s.notify.insert(it.key(), it.value()->isChecked());
    s.startAtLogin = m_login->isChecked();
    return s;
}

void SettingsDialog::showError(const QString &message)
{
    m_error->setText(message);
    m_error->setVisible(!message.isEmpty());
}
