"""The database's part of the status bar: "Read-only" when the store is open read-only, and
a Retry button while an edit that failed because the database was locked or away waits to
be saved again (nothing of it was saved; retrying applies the same edit)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from gui.editor import DocumentEditor
from models.store import Store


class ConnectionState(QWidget):
    def __init__(self, store: Store, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.read_only_label = QLabel(self.tr("Read-only"))
        self.read_only_label.setToolTip(
            self.tr("{url} is open read-only: edits are not saved").format(url=store.url)
        )
        self.read_only_label.setStyleSheet("color: #8a6d00; font-weight: 600;")
        self.read_only_label.setVisible(store.read_only)
        self.retry_button = QToolButton()
        self.retry_button.setText(self.tr("Retry"))
        self.retry_button.setToolTip(self.tr("Save again the edit that could not be saved"))
        self.retry_button.setVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.read_only_label)
        layout.addWidget(self.retry_button)
        editor.retryAvailable.connect(self.retry_button.setVisible)
        self.retry_button.clicked.connect(editor.retry)
