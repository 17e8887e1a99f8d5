"""DocBin shards encoded by worker processes: the spaCy export's second core.

The export reads the database on its own thread and, alone, also encodes every shard:
reading and encoding are both Python work under one GIL, so threads do not help. ``Workers``
starts processes (``python -m models.formats.docbin_workers``, see ``models.child``), each of
which encodes, compresses and writes the shards it is given (``Shard``: the file to write
and the records, sent as msgpack by msgspec, whose decoder gives the records back as
``DocumentRecord``). A worker holds at most ``DEPTH`` shards; when every worker is full,
``submit`` says no and the export encodes the shard itself, so that the work shares itself
out whatever the speed of each side (and a worker still starting takes none).

A worker does not import spaCy (0.4 to 0.6 s): it gets spaCy's symbol table with its first
frame and computes string ids with ``models.spacy_ids``. Its frames (``models.child``) are
the shards on its stdin and its replies (the entities moved to ``spans["sc"]``, or the
error). Each worker has a thread that writes its shards (a shard is megabytes: the pipe
holds 64 KB) and one that reads its replies; both wait on the pipes without the GIL.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO

import msgspec

from models.child import frames_out, receive, send, spawn
from models.formats.common import FormatError
from models.records import DocumentRecord

DEPTH = 4  # shards a worker holds: the one it encodes and those queued behind it
_MODULE = "models.formats.docbin_workers"


class Shard(msgspec.Struct, array_like=True):
    path: str
    records: list[DocumentRecord]


class Reply(msgspec.Struct, array_like=True):
    overlapping: int = 0
    error: str = ""
    format_error: bool = False  # the error is a FormatError (a record the format rejects)


class Setup(msgspec.Struct, array_like=True):
    stance_values: list[str]
    symbols: dict[str, int]


class WorkerError(RuntimeError):
    """A worker process stopped or could not be started."""


class _Worker:
    def __init__(self, setup: bytes, replies: queue.Queue[tuple[_Worker, Reply | None]]):
        self.process = spawn(_MODULE)
        self.held = 0
        self._shards: queue.Queue[bytes | None] = queue.Queue()
        self._shards.put(setup)
        self._replies = replies
        self._threads = [
            threading.Thread(target=self._write, name="docbin-send", daemon=True),
            threading.Thread(target=self._read, name="docbin-receive", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, frame: bytes) -> None:
        self.held += 1
        self._shards.put(frame)

    def _write(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            while (frame := self._shards.get()) is not None:
                send(stdin, frame)
            stdin.close()
        except OSError:
            pass  # the worker stopped: its reader reports it

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        decoder = msgspec.msgpack.Decoder(Reply)
        try:
            while (frame := receive(stdout)) is not None:
                self._replies.put((self, decoder.decode(frame)))
        except (OSError, EOFError, msgspec.DecodeError):
            pass
        self._replies.put((self, None))  # the end of its replies

    def close(self, kill: bool) -> None:
        self._shards.put(None)
        if kill:
            self.process.kill()
        self.process.wait()
        for thread in self._threads:
            thread.join()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with suppress(OSError):  # a worker killed: what its stdin holds is lost
                    stream.close()


class Workers:
    """``count`` worker processes; ``submit`` hands one a shard when one has room."""

    def __init__(
        self, count: int, stance_values: Sequence[str], symbols: Mapping[str, int]
    ) -> None:
        self.overlapping = 0
        self._encode = msgspec.msgpack.Encoder().encode
        setup = self._encode(Setup(list(stance_values), dict(symbols)))
        self._replies: queue.Queue[tuple[_Worker, Reply | None]] = queue.Queue()
        self._workers: list[_Worker] = []
        try:
            for _ in range(count):
                self._workers.append(_Worker(setup, self._replies))
        except OSError as error:
            self.close(kill=True)
            raise WorkerError(f"cannot start a DocBin worker: {error}") from error

    def submit(self, path: Path, records: list[DocumentRecord]) -> bool:
        """Give the shard to the worker that holds the fewest, if one has room (False:
        encode it here). Raises the error of a shard done since, if any."""
        self._collect(block=False)
        worker = min(self._workers, key=lambda w: w.held)
        if worker.held >= DEPTH:
            return False
        try:
            frame = self._encode(Shard(str(path), records))
        except (msgspec.EncodeError, OverflowError):
            return False  # not msgpack (an integer of meta beyond 64 bits): encoded here
        worker.submit(frame)
        return True

    def finish(self) -> None:
        """Wait until every shard given is written; raises the first error."""
        while any(worker.held for worker in self._workers):
            self._collect(block=True)

    def _collect(self, block: bool) -> None:
        while True:
            try:
                worker, reply = self._replies.get(block=block)
            except queue.Empty:
                return
            if reply is None:
                code = worker.process.poll()
                raise WorkerError(f"a DocBin worker stopped (exit code {code})")
            worker.held -= 1
            if reply.error:
                raise (FormatError if reply.format_error else WorkerError)(reply.error)
            self.overlapping += reply.overlapping
            block = False

    def close(self, kill: bool = False) -> None:
        """Stop the workers: at once with ``kill`` (a failed or cancelled export)."""
        for worker in self._workers:
            worker.close(kill)
        self._workers = []


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    from models.formats.spacy_docbin import Encoder, write_shard

    setup_frame = receive(stdin)
    if setup_frame is None:
        return
    setup = msgspec.msgpack.decode(setup_frame, type=Setup)
    encoder = Encoder(tuple(setup.stance_values), setup.symbols)
    decoder = msgspec.msgpack.Decoder(Shard)
    encode = msgspec.msgpack.Encoder().encode
    while (frame := receive(stdin)) is not None:
        before = encoder.overlapping
        try:
            shard = decoder.decode(frame)
            write_shard(Path(shard.path), encoder.encode(shard.records))
            reply = Reply(encoder.overlapping - before)
        except Exception as error:  # reported to the export, which raises it
            rejected = isinstance(error, FormatError)  # its message is the reason
            reason = str(error) if rejected else f"{type(error).__name__}: {error}"
            reply = Reply(error=reason, format_error=rejected)
        send(stdout, encode(reply))


def main() -> None:
    _serve(sys.stdin.buffer, frames_out())


if __name__ == "__main__":
    main()
