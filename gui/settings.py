"""Per-user settings of the app (QSettings): the annotator's name, window geometry."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "Glose"
APPLICATION = "Glose"


class Settings:
    """Typed access to the app's QSettings; tests pass a QSettings on a temporary file."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.qsettings = qsettings or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
        )

    def annotator(self) -> str | None:
        value = self.qsettings.value("annotator/name")
        return str(value).strip() or None if value else None

    def set_annotator(self, name: str) -> None:
        self.qsettings.setValue("annotator/name", name)
        self.qsettings.sync()

    def state(self, key: str) -> QByteArray | None:
        """A saved widget state (window geometry, splitter sizes) or None."""
        value = self.qsettings.value(f"window/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_state(self, key: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"window/{key}", value)
        self.qsettings.sync()

    def shown(self, key: str) -> bool | None:
        """Whether a part of the window (the document list) was left shown, None if unknown."""
        value = self.qsettings.value(f"window/{key}_shown")
        return None if value is None else str(value).lower() in ("true", "1")

    def set_shown(self, key: str, shown: bool) -> None:
        self.qsettings.setValue(f"window/{key}_shown", shown)
        self.qsettings.sync()
