"""Benchmark: the cost of a "done" for pre-annotation that learns, at 10,000 and 100,000
documents no analyst has opened (the synthetic corpus of ``scale_corpus``, its spans
imported as the raw model annotator's layers, then one full refresh: all cached under
``--work``).

Each "done" is what the GUI runs: the analyst opens the next document of the queue (its
learned layer brought up to date, ``ensure_current``, then the human layer seeded from
it), relabels two spans and deletes one, marks it done; then the background job
``refresh_near`` learns the correction and derives the next documents. ``--prior`` done
layers of another analyst are made first, so the memory is not a toy one. ``--full`` also
times a pass over every unopened document (``refresh`` with nothing known), which is what
each "done" cost before.

    .venv/bin/python tests/benchmarks/bench_refresh.py [--sizes 10000 100000] [--full]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from pathlib import Path

from scale_corpus import write_jsonl
from sqlalchemy import insert, select

from models.commands import RelabelEntity, RemoveEntity, SetStatus
from models.jobs import run
from models.layers import entities, open_layer
from models.learned_state import SETTING
from models.learning import Learner, learned_name, save_settings
from models.memory import Memory
from models.refresh import ensure_current, refresh, refresh_near
from models.schema import Entity, Layer
from models.store import DEFAULT_MODEL, ProjectInfo, Store
from models.transfer import import_file

LABELS = ("PER", "LOC", "ORG", "MISC")


def cached_database(work: Path, size: int) -> Path:
    """A database of ``size`` documents with raw and learned layers, built once."""
    path = work / f"refresh-{size}.sqlite"
    if path.exists():
        Store.open(str(path)).close()  # upgraded once, not each copy
        return path
    corpus = write_jsonl(work / f"{size}.jsonl", size)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = Store.open(str(partial))
    try:
        project = store.ensure_project("bench")
        began = time.perf_counter()
        run(import_file(store, project.id, corpus, annotator=DEFAULT_MODEL))
        print(f"  {size}: imported in {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        run(refresh(store, project))
        print(f"  {size}: learned layers in {time.perf_counter() - began:.0f} s", flush=True)
    finally:
        store.close()
    partial.replace(path)
    return path


def prior_done(store: Store, project: ProjectInfo, count: int, rng: random.Random) -> None:
    """``count`` documents (from the end of the corpus) done by carol: the raw spans, a
    tenth relabelled and a twentieth deleted."""
    raw_id = store.annotator_id(DEFAULT_MODEL, "model")
    carol = store.annotator_id("carol")
    with store.transaction() as session:
        layers = session.execute(
            select(Layer.id, Layer.document_id)
            .where(Layer.annotator_id == raw_id)
            .order_by(Layer.document_id.desc())
            .limit(count)
        ).all()
        for raw_layer, doc_id in layers:
            row = {"document_id": doc_id, "annotator_id": carol, "status": "done"}
            new = session.execute(insert(Layer).values(row).returning(Layer.id)).scalar_one()
            spans = session.execute(
                select(Entity.start, Entity.end, Entity.label).where(Entity.layer_id == raw_layer)
            ).all()
            rows = [
                {
                    "layer_id": new,
                    "start": start,
                    "end": end,
                    "label": rng.choice(LABELS) if rng.random() < 0.1 else label,
                    "origin": "model",
                    "score": None,
                }
                for start, end, label in spans
                if rng.random() > 0.05
            ]
            session.execute(insert(Entity), rows)


class Analyst:
    """alice working through the queue as the GUI lets her."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store, self.rng = store, rng
        self.project: ProjectInfo = store.project("bench")  # type: ignore[assignment]
        self.alice = store.annotator_id("alice")
        self.learned_id = store.annotator_id(learned_name(DEFAULT_MODEL), "model")
        self.learner: Learner | None = None
        self.position = -1

    def open_next(self) -> tuple[int, float]:
        """Open the next document (the GUI's ``prepare`` and seeding); its layer, seconds."""
        doc_id = self.store.next_document(self.project.id, self.alice, self.position)
        assert doc_id is not None
        began = time.perf_counter()
        if self.learner is not None:
            ensure_current(self.store, self.project, self.learner, doc_id)
        layer = open_layer(self.store, doc_id, self.alice, self.learned_id)
        seconds = time.perf_counter() - began
        assert layer is not None
        self.position = self.store.document(doc_id).position
        return layer.id, seconds

    def correct(self, layer_id: int) -> None:
        spans = entities(self.store, layer_id)
        for span in self.rng.sample(spans, 2):
            other = [label for label in LABELS if label != span.label]
            self.store.do(RelabelEntity(span.id, label=self.rng.choice(other)))
        self.store.do(RemoveEntity(self.rng.choice(spans).id))
        self.store.do(SetStatus(layer_id, "done"))

    def refresh(self) -> tuple[float, int]:
        """The background job after "done": seconds, documents derived."""
        began = time.perf_counter()
        report = run(refresh_near(self.store, self.project, self.position, learner=self.learner))
        self.learner = report.learner
        return time.perf_counter() - began, report.documents


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def measure(path: Path, dones: int, prior: int, full: bool) -> dict[str, float]:
    copy = path.with_suffix(".run.sqlite")
    shutil.copy(path, copy)
    store = Store.open(str(copy))
    try:
        rng = random.Random(0)
        prior_done(store, store.project("bench"), prior, rng)  # type: ignore[arg-type]
        analyst = Analyst(store, rng)
        began = time.perf_counter()
        run(refresh_near(store, analyst.project, -1))  # the first one loads the memory
        cold = time.perf_counter() - began
        analyst.learner = None
        analyst.refresh()
        opens, jobs, derived = [], [], []
        for _ in range(dones):
            layer_id, seconds = analyst.open_next()
            opens.append(seconds)
            analyst.correct(layer_id)
            seconds, documents = analyst.refresh()
            jobs.append(seconds)
            derived.append(documents)
        result = {
            "cold": cold,
            "job": statistics.median(jobs),
            "job95": p95(jobs),
            "open": statistics.median(opens),
            "open95": p95(opens),
            "derived": statistics.mean(derived),
            "forms": len(analyst.learner.memory) if analyst.learner else 0,
        }
        if full:
            project = store.project("bench")
            assert project is not None
            save_settings(store, project.id, **{SETTING: None})  # nothing known: derive all
            began = time.perf_counter()
            report = run(refresh(store, project, learner=analyst.learner))
            result["full"] = time.perf_counter() - began
            result["full_docs"] = report.documents
        return result
    finally:
        store.close()
        copy.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/glose-refresh"))
    parser.add_argument("--dones", type=int, default=30, help="dones timed per size")
    parser.add_argument("--prior", type=int, default=500, help="done layers made first")
    parser.add_argument("--full", action="store_true", help="also time a full pass")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    Memory("fr").warm()
    print(f"spaCy's tokenizer loaded once per process: {time.perf_counter() - began:.1f} s")
    rows = []
    for size in args.sizes:
        path = cached_database(args.work, size)
        rows.append((size, measure(path, args.dones, args.prior, args.full)))
    print(
        f"\n{'unopened':>9} | {'first job':>9} | {'job/done p50':>12} | {'p95':>7} | "
        f"{'derived':>7} | {'open p50':>8} | {'p95':>7} | {'forms':>5} | {'full pass':>9}"
    )
    for size, r in rows:
        full = f"{r['full']:8.1f}s" if "full" in r else f"{'-':>9}"
        print(
            f"{size:>9} | {r['cold']:8.2f}s | {r['job'] * 1e3:10.0f}ms | {r['job95'] * 1e3:5.0f}ms"
            f" | {r['derived']:7.1f} | {r['open'] * 1e3:6.1f}ms | {r['open95'] * 1e3:5.1f}ms | "
            f"{r['forms']:5.0f} | {full}"
        )
    print(
        "first job: the first refresh of a session (memory learned from every done layer); "
        "job/done: the refresh after each later done; derived: "
        "learned layers it derived; open: bringing the opened document's learned layer up "
        "to date and seeding the analyst's layer; full pass: deriving every unopened "
        "document, what each done cost before."
    )


if __name__ == "__main__":
    main()
