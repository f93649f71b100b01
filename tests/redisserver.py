"""A real ``redis-server`` on a free loopback port, in a temporary directory.

Tests that need Redis skip when ``redis-server`` is not installed, unless ``CI`` is
set (``.ci/run`` installs it), where they fail instead: a missing server must not
pass as a skipped scale-out test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def redis_server_or_skip() -> str:
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI (CI is set) but is not installed",
                        pytrace=False)
        pytest.skip("redis-server is not installed")
    return found


@contextmanager
def redis_server(binary: str) -> Iterator[str]:
    """Start one; yields its ``redis://`` URL, and stops it after."""
    with tempfile.TemporaryDirectory(prefix="redis-") as tmp:
        port = free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=(Path(tmp) / "log").open("w"), stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
