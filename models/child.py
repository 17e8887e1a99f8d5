"""What Glose's child processes share: msgpack frames on pipes, and how they start.

A child is a fresh interpreter (``python -m`` a module of Glose), not a fork: a fork of the
GUI process could inherit SQLite's or Qt's locks held by its other threads. A frame is an
8-byte little-endian length and the payload. A child writes its frames to a copy of its
stdout (``frames_out``) and its own stdout goes to stderr, so that nothing printed can
break a frame.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import IO

_FRAME = struct.Struct("<Q")


def send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_FRAME.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def receive(stream: IO[bytes]) -> bytes | None:
    """The next frame, or None at the end of the stream."""
    header = stream.read(_FRAME.size)
    if not header:
        return None
    (size,) = _FRAME.unpack(header)
    payload = stream.read(size)
    if len(header) < _FRAME.size or len(payload) < size:
        raise EOFError("a frame cut short")
    return payload


def spawn(module: str) -> subprocess.Popen[bytes]:
    """``python -m module`` with pipes on its stdin and stdout, Glose importable."""
    package_root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (package_root, path)))}
    return subprocess.Popen(
        [sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )


def frames_out() -> IO[bytes]:
    """In a child: the stream its frames go to (its stdout, now sent to stderr)."""
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a frame
    return frames
