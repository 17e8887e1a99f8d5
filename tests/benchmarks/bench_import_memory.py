"""Peak memory of a JSONL import: the import is streamed, so it stays flat as the file grows.

``python tests/benchmarks/bench_import_memory.py [MEGABYTES ...]`` writes a JSONL file of
about that size (default 30 and 120 MB) in a temporary folder, imports it into a fresh
SQLite database in a child process, and prints the child's peak resident memory.
``--child PATH DB`` is that child.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = (
    "Vladimir Poutine a reçu Xi Jinping à Moscou pour une visite d’État de trois jours. "
    "Les deux dirigeants ont signé une déclaration conjointe sur le partenariat stratégique. "
) * 12  # about 2 KB, a short article


def write_jsonl(path: Path, megabytes: int) -> int:
    """A JSONL file of about ``megabytes`` MB of distinct articles; returns the line count."""
    target, written, lines = megabytes * 1024 * 1024, 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            line = json.dumps({"text": f"{lines} {ARTICLE}", "meta": {"n": lines}}) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            lines += 1
    return lines


def child(path: Path, database: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from models.jobs import run
    from models.store import Store
    from models.transfer import import_file

    store = Store.open(str(database))
    project = store.ensure_project()
    report = run(import_file(store, project.id, path, "jsonl"))
    store.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"added": report.added, "problems": len(report.problems), "peak_kb": peak_kb}))


def measure(megabytes: int) -> dict[str, float]:
    """Import a generated file of that size in a child; its result and peak memory (MB)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.jsonl"
        lines = write_jsonl(path, megabytes)
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(path), str(Path(folder) / "glose.sqlite")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        return {
            "megabytes": megabytes,
            "lines": lines,
            "added": result["added"],
            "problems": result["problems"],
            "seconds": round(time.perf_counter() - started, 1),
            "peak_mb": round(result["peak_kb"] / 1024, 1),
        }


def main(arguments: list[str]) -> None:
    if arguments[:1] == ["--child"]:
        child(Path(arguments[1]), Path(arguments[2]))
        return
    for megabytes in [int(arg) for arg in arguments] or [30, 120]:
        print(json.dumps(measure(megabytes)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
