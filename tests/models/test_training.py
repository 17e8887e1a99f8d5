"""Fine-tuning: fr_core_news_sm's NER trained on done layers, saved beside the database and
registered as a model annotator the project can pre-annotate with."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.jobs import run
from models.learning import LearningSettings, set_learning
from models.preannotate import load_pipeline, model_annotator_name
from models.records import Progress
from models.store import Store
from models.training import finetuned_model, models_dir, train
from models.transfer import import_file, import_texts

GOLD = Path(__file__).resolve().parent.parent / "data" / "gold" / "sample_gold.jsonl"


def test_training_refuses_without_done_layers(sqlite_store: Store) -> None:
    project = sqlite_store.ensure_project("p")
    with pytest.raises(ValueError, match="no done layer"):
        run(train(sqlite_store, project, epochs=1))


def test_training_models_dir_is_beside_the_sqlite_file(sqlite_store: Store) -> None:
    database = Path(sqlite_store.engine.url.database or "")
    assert models_dir(sqlite_store) == database.resolve().parent / "glose-models"


@pytest.mark.spacy_model
def test_training_one_epoch_on_gold_registers_a_model_version(
    sqlite_store: Store, corpus_dir: Path
) -> None:
    project = sqlite_store.ensure_project("p")
    run(import_texts(sqlite_store, project.id, [corpus_dir]))
    run(import_file(sqlite_store, project.id, GOLD))
    steps: list[Progress] = []

    report = run(train(sqlite_store, project, epochs=1), steps.append)

    assert report.name == "fr_core_news_sm+glose-1@3.8.0"
    assert (report.documents, report.epochs) == (5, 1)
    assert report.loss > 0
    assert [step.done for step in steps][-1] == 1
    assert report.path == models_dir(sqlite_store) / "fr_core_news_sm+glose-1"
    assert (report.name, "model") in sqlite_store.annotators()
    trained = sqlite_store.project("p")
    assert trained is not None
    assert finetuned_model(trained) == report.path
    nlp = load_pipeline(str(report.path))
    assert model_annotator_name(nlp) == report.name
    doc = nlp("Vladimir Poutine a rencontré Xi Jinping à Pékin.")
    assert {ent.text for ent in doc.ents} >= {"Pékin"}
    set_learning(sqlite_store, trained.id, LearningSettings(finetuned=False))
    off = sqlite_store.project("p")
    assert off is not None and finetuned_model(off) is None


def test_training_cli_train_exit_codes(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from models import cli

    database = str(tmp_path / "g.sqlite")
    assert cli.main(["import", str(corpus_dir), "--db", database]) == 0
    assert cli.main(["train", "--db", database, "--epochs", "0"]) == 2
    assert cli.main(["train", "--db", database, "--epochs", "1"]) == 1
    assert "no done layer to learn from" in capsys.readouterr().err
