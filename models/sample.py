"""The bundled sample corpus (five French press articles), found through the installed
``resources`` package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_corpus_paths() -> list[Path]:
    """The sample articles (``resources/corpus/*.txt``), sorted by name."""
    corpus = resources.files("resources").joinpath("corpus")
    return sorted(Path(str(entry)) for entry in corpus.iterdir() if entry.name.endswith(".txt"))
