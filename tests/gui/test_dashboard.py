"""The agreement dashboard on a store of a model and two analysts, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.backend_bases import MouseEvent
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from gui.dashboard import AgreementDashboard
from gui.main_window import MainWindow
from gui.settings import Settings
from models.store import DEFAULT_MODEL, ProjectInfo, Store
from tests.gui.conftest import screenshot
from tests.models.test_agreement_store import add_layer, build_corpus

WAIT_MS = 30_000


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    return build_corpus(store, "press")


@pytest.fixture
def dashboard(qtbot: QtBot, store: Store, project: ProjectInfo) -> AgreementDashboard:
    shown = AgreementDashboard(store, project)
    qtbot.addWidget(shown)
    shown.show()
    with qtbot.waitSignal(shown.ready, timeout=WAIT_MS):
        shown.refresh()
    return shown


def _shown_texts(dashboard: AgreementDashboard) -> list[str]:
    return [text.get_text() for text in dashboard.axes["matrix"].texts]


def _hover(dashboard: AgreementDashboard, x: float, y: float) -> str:
    ax = dashboard.axes["matrix"]
    px, py = ax.transData.transform((x, y))
    return dashboard.tooltip_at(MouseEvent("motion_notify_event", dashboard.canvas, px, py))


def test_dashboard_matrix_shows_pairwise_f1(dashboard: AgreementDashboard) -> None:
    assert dashboard.result is not None
    assert dashboard.result["annotators"] == [DEFAULT_MODEL, "alice", "bob"]
    # rows and columns: model, alice, bob; exact F1 model×alice 1.0, with bob 1/3
    assert _shown_texts(dashboard) == [
        "—",
        "1.00",
        "0.33",
        "1.00",
        "—",
        "0.33",
        "0.33",
        "0.33",
        "—",
    ]
    assert dashboard.cells[("alice", "bob")].text == "0.33"
    assert "1 document(s) in common" in dashboard.cells[("alice", "bob")].tooltip
    assert "alice × bob" in _hover(dashboard, 2, 1)
    labels = [tick.get_text() for tick in dashboard.axes["matrix"].get_yticklabels()]
    assert labels == ["model", "alice", "bob"]
    assert dashboard.axes["matrix"].images[0].colorbar is not None


def test_dashboard_measure_selector_redraws(qtbot: QtBot, dashboard: AgreementDashboard) -> None:
    with qtbot.waitSignal(dashboard.ready, timeout=WAIT_MS):
        dashboard.measure_box.setCurrentIndex(dashboard.measure_box.findData("kappa_token"))
    assert dashboard.cells[("alice", "bob")].text == f"{37 / 55:.2f}"
    with qtbot.waitSignal(dashboard.ready, timeout=WAIT_MS):
        dashboard.status_box.setCurrentIndex(dashboard.status_box.findData("any"))
    # 16 tokens, 13 agreed; chance = B-PER 2·2 + I-PER 2·1 + O 9·11 + B-LOC 3·1 = 108
    assert dashboard.cells[("alice", "bob")].text == f"{(16 * 13 - 108) / (256 - 108):.2f}"


def test_dashboard_undefined_values_are_na_with_reason(
    qtbot: QtBot, store: Store, project: ProjectInfo
) -> None:
    third = store.document_rows(project.id, 0, 0, 10)[2].id
    add_layer(store, third, store.annotator_id("dave"), [])  # shares nothing with alice
    shown = AgreementDashboard(store, project)
    qtbot.addWidget(shown)
    with qtbot.waitSignal(shown.ready, timeout=WAIT_MS):
        shown.refresh()
    cell = shown.cells[("alice", "dave")]
    assert cell.text == "n/a"
    assert cell.tooltip == "alice × dave: n/a (no document annotated by both)"
    assert _shown_texts(shown)[1 * 4 + 3] == "n/a"  # row alice, column dave
    assert _hover(shown, 3, 1) == cell.tooltip
    speed_texts = [text.get_text() for text in shown.axes["speed"].texts]
    assert speed_texts[0] == "n/a"  # the model records no time
    model_speed = next(tip for _, tip in shown._tips if tip.startswith(f"{DEFAULT_MODEL}: no"))
    assert model_speed.endswith("no time recorded on the documents done")


def test_dashboard_exports_png(dashboard: AgreementDashboard, tmp_path: Path) -> None:
    path = dashboard.export_png(tmp_path / "agreement.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    screenshot(dashboard, "dashboard")


def test_dashboard_opens_from_the_view_menu(
    qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(window)
    assert window.dashboard_action in window.view_menu.actions()
    window.dashboard_action.trigger()
    dashboard = window.dashboard
    assert dashboard is not None
    with qtbot.waitSignal(dashboard.ready, timeout=WAIT_MS):
        pass
    assert dashboard.isVisible()
    assert dashboard.cells[("alice", "bob")].text == "0.33"
    assert window.show_dashboard() is dashboard  # one dashboard, computed afresh
    qtbot.waitUntil(lambda: dashboard.worker is None and not window.workers, timeout=WAIT_MS)
