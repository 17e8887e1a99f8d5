"""Settings shared by every test directory (no Qt here: tests/models loads this file too)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from models.formats.docbin_workers import Workers

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "resources" / "corpus"

# Two shared cores: no per-example deadline, a fixed seed in CI so a red run replays.
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The bundled sample corpus (five French articles, .txt)."""
    return CORPUS


@pytest.fixture(scope="session")
def sample_text() -> str:
    """The first sample article, exactly as stored on disk."""
    return sorted(CORPUS.glob("*.txt"))[0].read_text("utf-8")


@pytest.fixture
def docbin_workers(monkeypatch: pytest.MonkeyPatch) -> list[Workers]:
    """Every ``Workers`` (the spaCy export's worker processes) a test starts, to check that
    they were used and that their processes have ended."""
    made: list[Workers] = []
    original = Workers.__init__

    def record(self: Workers, *args: object) -> None:
        original(self, *args)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(Workers, "__init__", record)
    return made
