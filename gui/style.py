"""Colours and fonts shared by the GUI: label colours, readable text on a colour, fonts."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase

from models.labels import LabelSchema

UNKNOWN_LABEL_COLOUR = "#8a8f98"  # a label the schema does not declare (e.g. imported)
READING_FAMILIES = ("Source Serif 4", "Noto Serif", "Georgia", "DejaVu Serif")
READING_POINT_SIZE = 12
READING_WIDTH_CHARS = 78  # comfortable line length of the article column


def label_colour(schema: LabelSchema | None, label: str) -> QColor:
    """The schema colour of an entity label, a neutral grey when the label is unknown."""
    entity = schema.entity(label) if schema is not None else None
    return QColor(entity.colour if entity is not None else UNKNOWN_LABEL_COLOUR)


def luminance(colour: QColor) -> float:
    """Relative luminance (WCAG 2) of a colour, 0 (black) to 1 (white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def text_colour_for(background: QColor) -> QColor:
    """Black or white, whichever contrasts more with ``background``."""
    light = luminance(background)
    contrast_black = (light + 0.05) / 0.05
    contrast_white = 1.05 / (light + 0.05)
    return QColor("#111111") if contrast_black >= contrast_white else QColor("#ffffff")


def tint(colour: QColor, strength: float) -> QColor:
    """``colour`` blended onto white: 0 is white, 1 the colour itself (opaque result)."""
    return QColor.fromRgbF(
        1 - (1 - colour.redF()) * strength,
        1 - (1 - colour.greenF()) * strength,
        1 - (1 - colour.blueF()) * strength,
    )


def shade(colour: QColor, factor: float) -> QColor:
    """``colour`` darkened towards black by ``factor`` (0 unchanged, 1 black)."""
    return QColor.fromRgbF(
        colour.redF() * (1 - factor), colour.greenF() * (1 - factor), colour.blueF() * (1 - factor)
    )


def reading_font() -> QFont:
    """A serif font for reading articles, the first installed of ``READING_FAMILIES``."""
    installed = set(QFontDatabase.families())
    family = next((name for name in READING_FAMILIES if name in installed), None)
    font = (
        QFont(family) if family else QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    )
    font.setPointSize(READING_POINT_SIZE)
    return font


def tag_font(base: QFont) -> QFont:
    """The small bold sans-serif font of the label tags drawn after entities."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    font.setPointSizeF(max(base.pointSizeF() * 0.68, 7.0))
    font.setBold(True)
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 104)
    return font
