"""Benchmark: the real main window, offscreen, on a corpus of 100,000 documents.

    .venv/bin/python tests/benchmarks/bench_gui.py [--documents 100000] [--cache /tmp/glose-gui]

The database is built once, in a process of its own, and cached (``--cache``): the project
"scale" holds the documents of ``scale_corpus`` (about 625 words and 40 model entities each;
alice has done, started and tagged the stance of a few), "short" 40 articles of about 800
words and 60 entities, "long" 6 articles of 20,000 words and 2,000 entities. Measured, each
with its target (issue 8):

- the document list: ``window.show()`` to its first page painted: the first window of this
  process, the median and the slowest first window of 5 new processes (what the analyst
  sees when Glose starts: the first window pays Qt's one-off costs), the median of 5 more
  windows of this process; its scroll bar to the end, page up ×50, to the top, page down
  ×50 (p95 per step, rows held); the status and text filters; the RSS after that;
- switching documents (PgDown on the article) to painted with its highlights, p95, on the
  short and on the long articles (the first pass seeds alice's layers from the model's);
- each editing action on a long article (key press to painted) and on a short one (key press
  to committed on SQLite), p95 over ``--edits`` rounds;
- switching short articles while a pre-annotation (``--background-seconds``), then an
  import of 10,000 articles, works on another database: in a child process as the app
  runs them, then on a thread of this process, with the growth of this process's RSS
  meanwhile (last: on a thread spaCy stays loaded).

Every figure is a wall-clock time on whatever else the machine runs: repeat and compare
medians.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import product
from pathlib import Path
from typing import Any

import scale_corpus
from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSlider, QApplication, QWidget
from sqlalchemy import insert

from gui.app import application, settle
from gui.document_view import DocumentView
from gui.main_window import MainWindow
from gui.settings import Settings
from gui.workers import JobWorker
from models.job_process import apart
from models.jobs import Job, run
from models.preannotate import PreannotateReport
from models.records import DocumentRecord
from models.refresh import preannotate_learning
from models.schema import DocLabel, Entity, Layer
from models.store import DEFAULT_MODEL, Store
from models.transfer import ImportReport, import_file, import_file_of

BATCH = 2_000
LAUNCHES = 5  # new processes whose first window is timed
SHORT = (40, 800, 60)  # documents, words, entities
LONG = (6, 20_000, 2_000)
ANNOTATOR = "alice"
WORD = re.compile(r"\b[a-zàâçéèêëîïôûù]{6,}\b")
NO_MODIFIER = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
PAGE_UP = QAbstractSlider.SliderAction.SliderPageStepSub
PAGE_DOWN = QAbstractSlider.SliderAction.SliderPageStepAdd


# -- the cached corpus -------------------------------------------------------------------------
def build(path: Path, documents: int) -> None:
    """The benchmark database at ``path`` (written beside it, then renamed)."""
    partial = path.with_suffix(".partial")
    for stale in partial.parent.glob(partial.name + "*"):
        stale.unlink()
    store = Store.open(str(partial))
    try:
        model = store.annotator_id(DEFAULT_MODEL, "model")
        alice = store.annotator_id(ANNOTATOR, "human")
        scale = store.ensure_project("scale").id
        items = scale_corpus.articles(documents)
        _add(store, scale, items, model, alice, documents)
        for name, (count, words, spans), seed in (("short", SHORT, 1), ("long", LONG, 2)):
            project = store.ensure_project(name).id
            made = (
                scale_corpus.article(i, seed=seed, words=words, spans=spans) for i in range(count)
            )
            _add(store, project, made, model, None, count)
    finally:
        store.close()
    partial.replace(path)


def _add(
    store: Store,
    project_id: int,
    items: Iterator[dict[str, Any]],
    model: int,
    alice: int | None,
    count: int,
) -> None:
    done = 0
    while done < count:
        batch = [next(items) for _ in range(min(BATCH, count - done))]
        _add_batch(store, project_id, batch, model, alice, done)
        done += len(batch)
        print(f"\r  {project_id=}: {done:,} / {count:,} documents", end="", file=sys.stderr)
    print(file=sys.stderr)


def _add_batch(
    store: Store,
    project_id: int,
    batch: list[dict[str, Any]],
    model: int,
    alice: int | None,
    first: int,
) -> None:
    records = [DocumentRecord(text=i["text"], title=i["title"], meta=i["meta"]) for i in batch]
    ids = store.add_documents(project_id, records)
    layers: list[dict[str, Any]] = []
    for n, (doc_id, item) in enumerate(zip(ids, batch, strict=True), first):
        layers.append(
            {"document_id": doc_id, "annotator_id": model, "status": "done", "item": item}
        )
        if alice is not None and n % 20 in (3, 11):  # 10 % touched by alice, half of them done
            status = "done" if n % 20 == 3 else "in_progress"
            layers.append({"document_id": doc_id, "annotator_id": alice, "status": status})
            layers[-1]["item"] = item
    with store.transaction() as session:
        layer_ids = session.scalars(
            insert(Layer).returning(Layer.id, sort_by_parameter_order=True),
            [{k: v for k, v in row.items() if k != "item"} for row in layers],
        ).all()
        spans, stances = [], []
        for layer_id, row in zip(layer_ids, layers, strict=True):
            origin = "model" if row["annotator_id"] == model else "manual"
            spans += [
                {"layer_id": layer_id, "origin": origin, **span} for span in row["item"]["spans"]
            ]
            if row["annotator_id"] != model and row["status"] == "done":
                stances += [
                    {"layer_id": layer_id, "task": "stance", "target": target, "value": value}
                    for target, value in (("RUSSIE", "favorable"), ("CHINE", "defavorable"))
                ]
        session.execute(insert(Entity), spans)
        if stances:
            session.execute(insert(DocLabel), stances)


def corpus(cache: Path, documents: int) -> Path:
    path = cache / f"gui-{documents}.sqlite"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"building {path} (once) …", file=sys.stderr)
        started = time.perf_counter()
        # in a process of its own: the RSS figures are then the window's, not the build's
        builder = multiprocessing.get_context("spawn").Process(target=build, args=(path, documents))
        builder.start()
        builder.join()
        if builder.exitcode != 0:
            raise SystemExit(f"building {path} failed (exit code {builder.exitcode})")
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    Store.open(str(path)).close()  # migrated in place once, not in every copy
    return path


# -- driving the window ------------------------------------------------------------------------
class PaintProbe(QObject):
    """Counts the paint events a widget receives (the filter sees them just before)."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def until_painted(probe: PaintProbe, since: int, timeout: float = 10.0) -> None:
    """Process events until ``probe``'s widget has painted after ``since`` paints, then
    once more so that every update the event queued (list row, panels) is painted too."""
    deadline = time.perf_counter() + timeout
    while probe.count == since:
        QApplication.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("the widget was never painted")
    QApplication.processEvents()


def timed(action: Callable[[], bool | None], probe: PaintProbe) -> float:
    """Milliseconds from ``action`` (a key press) to ``probe``'s widget painted (not waited
    for when the action returns False: it changed nothing)."""
    since = probe.count
    started = time.perf_counter()
    if action() is not False:
        until_painted(probe, since)
    return (time.perf_counter() - started) * 1000


def window_on(store: Store, project_name: str, settings_dir: Path) -> MainWindow:
    project = store.project(project_name)
    assert project is not None
    ini = settings_dir / f"{project_name}.ini"
    settings = Settings(QSettings(str(ini), QSettings.Format.IniFormat))
    window = MainWindow(store, project, ANNOTATOR, settings)
    window.resize(1400, 900)
    window.show_document_list(True)  # hidden when built on a screen narrower than 1,000 px
    settle()  # as the app does once its window is built
    return window


def shown(window: MainWindow) -> None:
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    QApplication.processEvents()


def dispose(window: MainWindow) -> None:
    """Close and delete the window, so that the next part runs alone."""
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return tuple(int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


Row = tuple[str, float, str, str]  # what, figure, unit, target


def press(
    widget: QWidget, key: Qt.Key, modifier: Qt.KeyboardModifier = NO_MODIFIER
) -> Callable[[], None]:
    return lambda: QTest.keyClick(widget, key, modifier)


# -- 1. the document list at 100,000 documents ----------------------------------------------
def first_page(window: MainWindow) -> float:
    """ms from ``show()`` to the document list's first page painted."""
    probe = PaintProbe(window.documents.table.viewport())
    started = time.perf_counter()
    window.show()
    while probe.count == 0 or window.model.rowCount() == 0:
        QApplication.processEvents()
    return (time.perf_counter() - started) * 1000


def launch(path: Path) -> float:
    """ms from ``show()`` to the first page painted, for the first window of a new process
    (``--first-window``): what the analyst sees when Glose starts."""
    done = subprocess.run(
        [sys.executable, __file__, "--first-window", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.split()[-1])


def first_window(path: Path) -> None:
    """Print ``first_page`` of a window on ``path``'s corpus (its copy: no edit reaches it)."""
    application().setStyle("Fusion")
    settings_dir = Path(tempfile.mkdtemp(prefix="glose-bench-"))
    working = settings_dir / path.name
    shutil.copyfile(path, working)
    store = Store.open(str(working))
    try:
        window = window_on(store, "scale", settings_dir)
        print(f"{first_page(window):.2f}")
        dispose(window)
    finally:
        store.close()
        shutil.rmtree(settings_dir, ignore_errors=True)


def bench_list(store: Store, settings_dir: Path, path: Path) -> list[Row]:
    started = time.perf_counter()
    window = window_on(store, "scale", settings_dir)
    built = (time.perf_counter() - started) * 1000
    table, model = window.documents.table, window.model
    probe = PaintProbe(table.viewport())
    first = first_page(window)  # the first window of the process: what the analyst sees
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    table.setFocus()
    QApplication.processEvents()
    bar = table.verticalScrollBar()  # scrolling only: PgDown would open each document

    def scroll(action: QAbstractSlider.SliderAction) -> Callable[[], bool]:
        def run() -> bool:
            before = bar.value()
            bar.triggerAction(action)
            return bar.value() != before

        return run

    end = timed(scroll(QAbstractSlider.SliderAction.SliderToMaximum), probe)
    pages = [timed(scroll(PAGE_UP), probe) for _ in range(50)]
    home = timed(scroll(QAbstractSlider.SliderAction.SliderToMinimum), probe)
    pages += [timed(scroll(PAGE_DOWN), probe) for _ in range(50)]
    rows = getattr(model, "loaded", model.rowCount())
    combo = window.documents.status_filter

    def choose(index: int) -> Callable[[], None]:
        return lambda: combo.setCurrentIndex(index)

    # done, to do, in progress, all, twice
    status = [timed(choose(index), probe) for index in (3, 1, 2, 0, 3, 1, 2, 0)]
    search = window.documents.search

    def find(text: str) -> Callable[[], None]:
        def run() -> None:
            search.setText(text)
            window.documents.apply_filter()  # what the 250 ms typing delay then calls

        return run

    text = [timed(find(word), probe) for word in ("Poutine", "", "Pékin", "", "gazoduc", "")]
    current, peak = rss_mb()
    dispose(window)
    shows = []
    for _ in range(5):
        other = window_on(store, "scale", settings_dir)
        shows.append(first_page(other))
        dispose(other)
    again = sorted(shows)[len(shows) // 2]
    launches = sorted(launch(path) for _ in range(LAUNCHES))
    return [
        ("window built (MainWindow())", built, "ms", ""),
        ("show() → first page painted", first, "ms", "< 50"),
        (
            f"  first window of {LAUNCHES} new processes, median",
            launches[LAUNCHES // 2],
            "ms",
            "< 50",
        ),
        (f"  first window of {LAUNCHES} new processes, slowest", launches[-1], "ms", "< 50"),
        ("  again, median of 5 new windows", again, "ms", "< 50"),
        ("list scrolled to the end", end, "ms", ""),
        ("list scrolled to the top", home, "ms", ""),
        ("list page up ×50 from the end, down ×50, p95", p95(pages), "ms", "smooth"),
        ("rows held after scrolling", rows, "rows", f"≪ {model.total:,}"),
        ("status filter, p95", p95(status), "ms", ""),
        ("text filter, max", max(text), "ms", ""),
        ("RSS after the list", current, "MB", "< 300"),
        ("peak RSS so far", peak, "MB", "< 300"),
    ]


# -- 2. switching documents ---------------------------------------------------------------------
def bench_switch(store: Store, settings_dir: Path, project: str, rounds: int) -> list[float]:
    window = window_on(store, project, settings_dir)
    shown(window)
    view = window.view
    probe = PaintProbe(view.viewport())
    count = window.model.total
    times = []
    for _ in range(rounds):
        for key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            for _ in range(count - 1):
                times.append(timed(press(view, key), probe))
    dispose(window)
    return times


JOBS: dict[str, tuple[Callable[..., Job[Any]], type]] = {  # the app's background jobs
    "pre-annotating": (preannotate_learning, PreannotateReport),
    "importing": (import_file_of, ImportReport),
}


def import_corpus(database: Path, corpus: Path | None) -> None:
    """A database with a project, and ``corpus`` imported into it."""
    store = Store.open(str(database))
    project = store.ensure_project()
    if corpus is not None:
        run(import_file(store, project.id, corpus))
    store.close()


# -- 2b. switching while the app pre-annotates --------------------------------------------------
def bench_background(store: Store, settings_dir: Path, seconds: float) -> list[Row]:
    """Switching short articles while a background job works on another database: a
    pre-annotation of 2,000 articles (for ``seconds``), then an import of 10,000 (to its
    end); each in a child process, as the app runs them (``models.job_process.apart``), then
    on a thread of this process, as before; with the growth of this process's RSS."""
    small = scale_corpus.write_jsonl(settings_dir / "background.jsonl", 2_000)
    large = scale_corpus.write_jsonl(settings_dir / "import.jsonl", 10_000)
    rows: list[Row] = []
    for what, where in product(("pre-annotating", "importing"), ("a child process", "a thread")):
        database = settings_dir / f"background-{len(rows)}.sqlite"
        importer = multiprocessing.get_context("spawn").Process(
            target=import_corpus, args=(database, small if what == "pre-annotating" else None)
        )
        importer.start()  # in a process of its own: this one's RSS is then the window's
        importer.join()
        other = Store.open(str(database))
        project = other.project()
        assert project is not None
        function, result = JOBS[what]
        options = {"path": str(large)} if what == "importing" else {}
        if where == "a thread":
            job = function(other, project, **options)
        else:
            target = f"{function.__module__}:{function.__name__}"
            job = apart(target, result, other, project, **options)
        window = window_on(store, "short", settings_dir)
        shown(window)
        before, _ = rss_mb()
        worker = JobWorker(job, what).start()
        probe = PaintProbe(window.view.viewport())
        times: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and not worker.wait(0):
            for key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                times += [timed(press(window.view, key), probe) for _ in range(9)]
        worker.cancel()
        worker.wait()
        current, _ = rss_mb()
        dispose(window)
        other.close()
        rows += [
            (f"switch, 800 words, {what} on {where}, p95", p95(times), "ms", ""),
            ("  slowest switch", max(times), "ms", ""),
            ("  RSS of this process: growth meanwhile", current - before, "MB", ""),
        ]
    return rows


# -- 3. edits -------------------------------------------------------------------------------------
def free_words(view: DocumentView, count: int) -> list[tuple[int, int]]:
    """Ranges of words no entity touches."""
    taken = sorted((span.start, span.end) for span in view.spans)
    free = []
    for match in WORD.finditer(view.text):
        start, end = match.span()
        if not any(s < end + 1 and start - 1 < e for s, e in taken):
            free.append((start, end))
            if len(free) == count:
                break
    return free


def bench_edits(
    store: Store, settings_dir: Path, project: str, rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per action: ms from the key press to painted, and to committed on the database."""
    window = window_on(store, project, settings_dir)
    shown(window)
    view = window.view
    probe = PaintProbe(view.viewport())
    committed: list[float] = []
    edit = store._edit

    def recording_edit(*args: Any) -> Any:
        result = edit(*args)
        committed.append(time.perf_counter())
        return result

    store._edit = recording_edit  # type: ignore[method-assign,assignment]
    painted: dict[str, list[float]] = {}
    saved: dict[str, list[float]] = {}

    def measure(name: str, *keys: tuple[Qt.Key, Qt.KeyboardModifier]) -> None:
        for key, modifier in keys[:-1]:  # the first keys of a sequence (S, 1)
            QTest.keyClick(view, key, modifier)
        key, modifier = keys[-1]
        committed.clear()
        since = probe.count
        started = time.perf_counter()
        QTest.keyClick(view, key, modifier)
        until_painted(probe, since)
        painted.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        if committed:
            saved.setdefault(name, []).append((committed[0] - started) * 1000)

    for number, (start, end) in enumerate(free_words(view, rounds)):
        view.set_selection_range(start, end)
        measure("add entity", (Qt.Key.Key_1, NO_MODIFIER))
        measure("relabel", (Qt.Key.Key_2, NO_MODIFIER))
        measure("move end by a token", (Qt.Key.Key_Right, CTRL | SHIFT))
        measure("undo", (Qt.Key.Key_Z, CTRL))
        measure("redo", (Qt.Key.Key_Z, CTRL | SHIFT))
        measure("delete", (Qt.Key.Key_Delete, NO_MODIFIER))
        value = Qt.Key.Key_F if number % 2 == 0 else Qt.Key.Key_D
        measure(
            "stance (S 1 F)",
            (Qt.Key.Key_S, NO_MODIFIER),
            (Qt.Key.Key_1, NO_MODIFIER),
            (value, NO_MODIFIER),
        )
        view.set_selection_range(start, end)
        measure("event (E 1)", (Qt.Key.Key_E, NO_MODIFIER), (Qt.Key.Key_1, NO_MODIFIER))
    store._edit = edit  # type: ignore[method-assign]
    dispose(window)
    return painted, saved


def report(rows: list[Row]) -> None:
    width = max(len(what) for what, *_ in rows)
    print(f"{'measure':<{width}}  {'figure':>10}  unit  target")
    for what, figure, unit, target in rows:
        shown = f"{figure:,.0f}" if unit in ("rows", "MB") or figure >= 100 else f"{figure:.1f}"
        print(f"{what:<{width}}  {shown:>10}  {unit:<4}  {target}")


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/glose-gui"))
    parser.add_argument("--rounds", type=int, default=3, help="switching rounds (PgDown, PgUp)")
    parser.add_argument("--edits", type=int, default=10, help="rounds of every edit")
    parser.add_argument(
        "--only",
        choices=("list", "switch", "edits", "background"),
        action="append",
        help="parts to run",
    )
    parser.add_argument(
        "--background-seconds", type=float, default=20.0, help="pre-annotation, each way"
    )
    parser.add_argument("--first-window", type=Path, help=argparse.SUPPRESS)  # see launch()
    options = parser.parse_args()
    if options.first_window:
        first_window(options.first_window)
        return
    parts = options.only or ["list", "switch", "edits", "background"]
    path = corpus(options.cache, options.documents)
    app = application()
    app.setStyle("Fusion")
    settings_dir = Path(tempfile.mkdtemp(prefix="glose-bench-"))
    working = settings_dir / path.name  # edits must not change the cached corpus
    shutil.copyfile(path, working)
    store = Store.open(str(working))
    rows: list[Row] = []
    try:
        if "list" in parts:
            rows += bench_list(store, settings_dir, path)
        if "switch" in parts:
            for project, target in (("short", "< 30"), ("long", "< 200")):
                times = bench_switch(store, settings_dir, project, options.rounds)
                words, spans = (SHORT if project == "short" else LONG)[1:]
                what = f"switch, {words:,} words / {spans:,} entities, p95"
                rows.append((what, p95(times), "ms", target))
        if "edits" in parts:
            painted, _ = bench_edits(store, settings_dir, "long", options.edits)
            rows += [
                (f"long: {name} → painted, p95", p95(v), "ms", "< 200")
                for name, v in painted.items()
            ]
            slowest = max(t for times in painted.values() for t in times)
            rows.append(("long: slowest edit → painted", slowest, "ms", "< 200"))
            _, saved = bench_edits(store, settings_dir, "short", options.edits)
            every = [t for times in saved.values() for t in times]
            rows += [
                (f"short: {name} → committed, p95", p95(v), "ms", "< 10")
                for name, v in saved.items()
            ]
            rows.append(("short: every edit → committed, p95", p95(every), "ms", "< 10"))
        current, peak = rss_mb()
        rows.append(("RSS at the end", current, "MB", "< 300"))
        rows.append(("peak RSS", peak, "MB", "< 300"))
        if "background" in parts:  # last: on a thread, spaCy stays in this process
            rows += bench_background(store, settings_dir, options.background_seconds)
    finally:
        store.close()
        shutil.rmtree(settings_dir, ignore_errors=True)
    report(rows)


if __name__ == "__main__":
    main()
