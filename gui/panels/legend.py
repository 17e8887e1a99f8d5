"""The schema legend: every entity label, stance target and value, event type and role of
the project's schema, with the keys that apply them (Help ▸ Schema Legend)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from gui.style import label_colour, text_colour_for
from models.labels import LabelSchema

CONTEXT = "SchemaLegend"
STYLE = """
h2 { font-size: 13pt; margin: 14px 0 4px 0; }
table { border-collapse: collapse; }
td, th { padding: 4px 10px 4px 0; vertical-align: top; }
th { text-align: left; color: #6b7280; font-weight: 600; }
.key { font-family: monospace; font-weight: 600; background: #f1f3f5;
       border: 1px solid #c4c9d0; }
.muted { color: #6b7280; }
"""


def _tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def _key(text: str) -> str:
    return f'<span class="key">&nbsp;{escape(text)}&nbsp;</span>'


def _table(headings: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(heading)}</th>" for heading in headings)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table cellspacing="0"><tr>{head}</tr>{body}</table>'


def legend_html(schema: LabelSchema) -> str:
    """The whole schema as an HTML page (Qt's rich text subset)."""
    roles = {role.id: role.name for role in schema.roles}
    entities = []
    for label in schema.entities:
        colour = label_colour(schema, label.id)
        chip = (
            f'<span style="background:{colour.name()}; color:{text_colour_for(colour).name()};'
            f' font-weight:700;">&nbsp;{escape(label.id)}&nbsp;</span>'
        )
        entities.append(
            [
                _key(label.key),
                chip,
                escape(label.name),
                f'<span class="muted">{escape(label.description)}</span>',
            ]
        )
    targets = [
        [_key("S") + " › " + _key(str(number)), escape(target.name), escape(target.id)]
        for number, target in enumerate(schema.stance_targets[:9], start=1)
    ]
    values = [[_key(value.key.upper()), escape(value.name)] for value in schema.stance_values]
    values.append([_key("0"), escape(_tr("no stance (clears it)"))])
    values.append([_key("V"), escape(_tr("attach the selected passage as evidence"))])
    events = [
        [
            _key("E") + " › " + _key(str(number)),
            f"<b>{escape(kind.name)}</b><br><span class='muted'>{escape(kind.id)}</span>",
            escape(", ".join(roles.get(role, role) for role in kind.roles)),
            f'<span class="muted">{escape(", ".join(kind.triggers))}</span>',
        ]
        for number, kind in enumerate(schema.events[:9], start=1)
    ]
    parts = [
        f"<h1>{escape(schema.name)}</h1>",
        f"<h2>{escape(_tr('Entity labels'))}</h2>",
        _table([_tr("Key"), _tr("Label"), _tr("Name"), _tr("Description")], entities),
        f"<h2>{escape(_tr('Stance targets'))}</h2>",
        _table([_tr("Keys"), _tr("Target"), _tr("Identifier")], targets),
        f"<h2>{escape(_tr('Stance values (after the target number)'))}</h2>",
        _table([_tr("Key"), _tr("Value")], values),
        f"<h2>{escape(_tr('Event types'))}</h2>",
        _table([_tr("Keys"), _tr("Type"), _tr("Roles"), _tr("Trigger lemmas")], events),
    ]
    return "".join(parts)


class SchemaLegend(QDialog):
    """A non-modal window showing the project's schema with its keys."""

    def __init__(self, schema: LabelSchema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Schema Legend — {name}").format(name=schema.name))
        self.browser = QTextBrowser()
        self.browser.document().setDefaultStyleSheet(STYLE)
        self.browser.setHtml(legend_html(schema))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 720)
