"""``glose demo``: a fresh database in the user data dir with the sample corpus imported.

Pre-annotation is not run here: the app starts it in the background once the window shows.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

from models.jobs import run
from models.sample import sample_corpus_paths
from models.store import ProjectInfo, Store
from models.transfer import import_texts

DEMO_PROJECT = "demo"


def demo_db_path() -> Path:
    return platformdirs.user_data_path("glose", appauthor=False) / "demo.sqlite"


def create_demo(path: Path | None = None) -> tuple[Store, ProjectInfo]:
    """Recreate the demo database at ``path`` and import the sample corpus into it."""
    path = path or demo_db_path()
    for stale in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    store = Store.open(str(path))
    project = store.ensure_project(DEMO_PROJECT)
    run(import_texts(store, project.id, sample_corpus_paths()))
    return store, project
