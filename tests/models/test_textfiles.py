"""Plain-text files → records: encoding, exact text, title, refusals by name and line."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from models.records import DocumentRecord, Problem
from models.textfiles import expand_paths, read_text_file, title_of


def _read(path: Path) -> DocumentRecord:
    result = read_text_file(path)
    assert isinstance(result, DocumentRecord), result
    return result


def test_textfiles_bom_removed_and_crlf_kept(tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(codecs.BOM_UTF8 + "Titre d’essai\r\n\r\nCorps\u00a0: 🇷🇺 e\u0301\r\n".encode())
    record = _read(path)
    assert record.text == "Titre d’essai\r\n\r\nCorps\u00a0: 🇷🇺 e\u0301\r\n"
    assert record.title == "Titre d’essai"
    assert record.meta == {"source": "article.txt"}


def test_textfiles_title_is_first_non_empty_line() -> None:
    assert title_of("\n  \n   Le titre  \nle corps") == "Le titre"
    assert title_of(" \n ") == ""


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"", 0, "empty file"),
        (b" \r\n\t\n", 0, "only whitespace"),
        (b"Titre\ncaf\xe9 noir\n", 2, "byte 0xe9"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 3, "binary"),
        ("Titre".encode("utf-16"), 1, "UTF-16"),
    ],
)
def test_textfiles_refuses_bad_file(tmp_path: Path, content: bytes, line: int, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    problem = read_text_file(path)
    assert isinstance(problem, Problem)
    assert problem.source == str(path)
    assert problem.line == line
    assert reason in problem.reason


def test_textfiles_refuses_missing_path(tmp_path: Path) -> None:
    problem = read_text_file(tmp_path / "absent.txt")
    assert isinstance(problem, Problem)
    assert "no such file" in problem.reason


def test_textfiles_expand_folders_recursively_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/2.txt", "a.txt", "b/1.txt", "notes.md"):
        (tmp_path / name).write_text("x", "utf-8")
    single = tmp_path / "notes.md"
    found = list(expand_paths([tmp_path, single]))
    assert found == [tmp_path / "a.txt", tmp_path / "b/1.txt", tmp_path / "b/2.txt", single]
