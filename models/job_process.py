"""A job run in a child process (``python -m models.job_process``), driven like any Job.

Pre-annotation loads spaCy (130 MB for NER, 310 MB with the lemmatizer, more while a batch
runs: ``models.preannotate.BATCH``) and computes in Python for minutes. On a thread of the
app it kept that memory after the run and shared the GIL with the window: a document
switch took 50 ms at p95 instead of 20, and the window froze up to 0.9 s while the model
loaded. ``in_child`` runs such a job in a fresh interpreter on the same database and is
itself a Job: each step's ``Progress`` comes back as a frame (``models.child``), then the
result or the error.

Closing the Job (a cancel) closes the child's stdin; the child closes its job between two
steps (a pre-annotation keeps the batches it finished), and stops. So does a child whose
parent died. The job is named by ``module:function`` (called with the child's Store, the
project and the options, which must be msgpack: numbers, strings, lists, dicts): code of
Glose, never anything a user typed.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import msgspec

from models import db
from models.child import frames_out, receive, send, spawn
from models.jobs import Job
from models.records import Progress
from models.store import ProjectInfo, Store

T = TypeVar("T")
_MODULE = "models.job_process"
STOP_SECONDS = 30.0  # a cancelled child finishes its step; killed after this


class Start(msgspec.Struct):
    target: str  # module:function
    database: str
    project: str
    options: dict[str, Any]


class Step(msgspec.Struct, tag=True):
    done: int
    total: int | None
    message: str


class Done(msgspec.Struct, tag=True):
    result: msgspec.Raw


class Failed(msgspec.Struct, tag=True):
    error: str


class ChildJobError(RuntimeError):
    """The child's job failed (its error, type and message) or the child stopped."""


def reopenable(store: Store) -> bool:
    """Whether a child process can open this store's database: a server, or a file."""
    url = store.engine.url
    return not db.is_sqlite(url) or Path(url.database or "").is_file()


def apart(
    target: str, result: type[T], store: Store, project: ProjectInfo, **options: Any
) -> Job[T]:
    """``in_child`` when a child can open the database (``reopenable``), else the job
    itself, here."""
    if reopenable(store):
        return in_child(target, result, store, project, **options)
    return cast(Job[T], _function(target)(store, project, **options))


def _function(target: str) -> Any:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def in_child(
    target: str, result: type[T], store: Store, project: ProjectInfo, **options: Any
) -> Job[T]:
    """The job ``target(store, project, **options)`` run in a child process on ``store``'s
    database; its result decoded as ``result``."""
    process = spawn(_MODULE)
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None
    try:
        database = store.engine.url.render_as_string(hide_password=False)
        start = Start(target, database, project.name, options)
        send(stdin, msgspec.msgpack.encode(start))  # the password on a pipe, not in argv
        decoder = msgspec.msgpack.Decoder(Step | Done | Failed)
        while (frame := receive(stdout)) is not None:
            message = decoder.decode(frame)
            if isinstance(message, Step):
                yield Progress(message.done, message.total, message.message)
            elif isinstance(message, Done):
                return msgspec.msgpack.decode(message.result, type=result)
            else:
                raise ChildJobError(message.error)
        raise ChildJobError(f"the job's process stopped (exit code {process.wait()})")
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Close the child's stdin (it cancels its job if still running) and wait for it."""
    with suppress(OSError):
        if process.stdin is not None:
            process.stdin.close()
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _serve(stdin: IO[bytes], out: IO[bytes]) -> None:
    frame = receive(stdin)
    if frame is None:
        return
    start = msgspec.msgpack.decode(frame, type=Start)
    closed = threading.Event()  # the parent closed the pipe: cancelled, or gone

    def watch() -> None:  # on the file descriptor: a read of ``stdin`` holds its lock
        while os.read(stdin.fileno(), 4096):
            pass
        closed.set()

    threading.Thread(target=watch, name="job-watch", daemon=True).start()
    encode = msgspec.msgpack.Encoder().encode
    store = None
    try:
        store = Store.open(start.database)
        project = store.project(start.project)
        if project is None:
            raise ChildJobError(f"no project named '{start.project}'")
        job = _function(start.target)(store, project, **start.options)
        try:
            while not closed.is_set():
                try:
                    step = next(job)
                except StopIteration as stop:
                    send(out, encode(Done(msgspec.Raw(encode(stop.value)))))
                    return
                send(out, encode(Step(step.done, step.total, step.message)))
        finally:
            job.close()
    except Exception as error:  # the parent raises it
        with suppress(OSError):
            send(out, encode(Failed(f"{type(error).__name__}: {error}")))
    finally:
        if store is not None:
            store.close()


def main() -> None:
    _serve(sys.stdin.buffer, frames_out())


if __name__ == "__main__":
    main()
