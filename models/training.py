"""Fine-tuning: spaCy's NER updated from the analysts' done layers, on the CPU.

The pipeline starts from fr_core_news_sm (all its components, so the result can still
lemmatize for event suggestions) and only ``ner`` is trained (it has its own tok2vec in
that model), on the normalised texts pre-annotation gives it. The result is saved in a
folder beside the database (``models_dir``) and registered as a model annotator
``fr_core_news_sm+glose-N@3.8.0``; the project pre-annotates with it while its
"finetuned" learning setting is on (``finetuned_model``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from models import db
from models.jobs import Job
from models.learning import done_layers, learning_settings, save_settings
from models.normalise import normalise
from models.records import Progress
from models.rules import Span
from models.store import ProjectInfo, Store

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

BASE_MODEL = "fr_core_news_sm"
SUFFIX = "+glose-"
MODEL_SETTING = "finetuned_model"  # {"name": annotator name, "path": folder}


@dataclass(frozen=True, slots=True)
class TrainReport:
    name: str  # the new model annotator
    path: Path
    documents: int
    epochs: int
    loss: float  # NER loss of the last epoch


def models_dir(store: Store) -> Path:
    """Where fine-tuned models live: ``glose-models`` beside a SQLite file, else in the
    user data folder."""
    url = store.engine.url
    if db.is_sqlite(url) and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "glose-models"
    return platformdirs.user_data_path("glose", appauthor=False) / "models"


def finetuned_model(project: ProjectInfo) -> Path | None:
    """The folder of the project's fine-tuned model to pre-annotate with, if any and on."""
    stored = project.settings.get(MODEL_SETTING)
    if not stored or not learning_settings(project).finetuned:
        return None
    path = Path(stored["path"])
    return path if (path / "meta.json").is_file() else None


def examples(nlp: Language, layers: list[tuple[str, list[Span]]]) -> list[Example]:
    """Training examples of (text, spans): entities on the normalised text, each span
    shrunk to whole tokens (a span inside one token is left out)."""
    from spacy.training import Example

    made = []
    for text, spans in layers:
        reference = nlp.make_doc(normalise(text))
        ents = [
            reference.char_span(s, e, label=lab, alignment_mode="contract") for s, e, lab in spans
        ]
        reference.ents = [ent for ent in ents if ent is not None]
        made.append(Example(nlp.make_doc(reference.text), reference))
    return made


def fine_tune(
    nlp: Language, data: list[Example], epochs: int, *, seed: int = 0, learn_rate: float = 2e-4
) -> Iterator[float]:
    """Update ``nlp``'s NER ``epochs`` times over ``data``; the loss after each epoch."""
    from spacy.util import minibatch
    from thinc.api import fix_random_seed

    fix_random_seed(seed)
    shuffled = list(data)
    with nlp.select_pipes(enable=["ner"]):
        optimizer = nlp.resume_training()
        optimizer.learn_rate = learn_rate
        for _ in range(epochs):
            random.Random(seed).shuffle(shuffled)
            losses: dict[str, float] = {}
            for batch in minibatch(shuffled, size=2):  # type: ignore[no-untyped-call]
                nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
            yield losses.get("ner", 0.0)


def train(
    store: Store, project: ProjectInfo, *, epochs: int = 3, base: str = BASE_MODEL
) -> Job[TrainReport]:
    """Fine-tune ``base`` on the project's done human and gold layers, save it beside the
    database and make it the project's fine-tuned model. Closing the job stops it between
    two epochs, saving nothing."""
    import spacy

    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    yield Progress(0, epochs, "Reading the done layers…")
    layers = [(text, spans) for text, spans, _, _ in done_layers(store, project.id, "")]
    if not layers:
        raise ValueError("no done layer to learn from: mark documents done first")
    yield Progress(0, epochs, f"Loading {base}…")
    nlp = spacy.load(base)
    data = examples(nlp, layers)
    loss = 0.0
    for epoch, loss in enumerate(fine_tune(nlp, data, epochs), 1):
        yield Progress(epoch, epochs, f"Epoch {epoch} of {epochs}: loss {loss:.1f}")
    folder = models_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    number = 1 + max((_number(path.name) for path in folder.glob(f"*{SUFFIX}*")), default=0)
    nlp.meta["name"] = f"{nlp.meta['name']}{SUFFIX}{number}"
    path = folder / f"{nlp.meta['lang']}_{nlp.meta['name']}"
    nlp.to_disk(path)
    name = f"{nlp.meta['lang']}_{nlp.meta['name']}@{nlp.meta['version']}"
    store.annotator_id(name, "model")
    save_settings(store, project.id, **{MODEL_SETTING: {"name": name, "path": str(path)}})
    return TrainReport(name, path, len(layers), epochs, loss)


def _number(name: str) -> int:
    tail = name.rsplit(SUFFIX, 1)[-1]
    return int(tail) if tail.isdigit() else 0
