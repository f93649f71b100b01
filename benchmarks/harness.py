"""The bot under test: ``python -m bot serve`` as a child process, and what we read from it.

A child process rather than the app in this process, so that its memory is its own
(read from ``/proc/PID/status``) and it has a core to itself while the load generator
and the fake GitHub use the other.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent


def _die_with_parent() -> None:
    # Linux: the bot gets SIGTERM if the benchmark dies, so no server outlives a crash.
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Memory:
    """Resident set size of a process, in MiB: now, and the peak since the last reset.

    ``anon_mib`` is the process's own heap; the rest of the RSS is mapped files (the
    interpreter, shared libraries such as OpenSSL), shared with other processes.
    """

    rss_mib: float
    peak_mib: float
    anon_mib: float


def read_memory(pid: int) -> Memory:
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon"):
                fields[name] = int(value.split()[0]) / 1024  # kB -> MiB
    return Memory(fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0),
                  fields.get("RssAnon", 0.0))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far, all cores summed."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal ...
    busy = sum(fields[:3]) + sum(fields[5:7])
    steal = fields[7] if len(fields) > 7 else 0
    return busy / tick, steal / tick


def reset_peak(pid: int) -> bool:
    """Start a new peak (VmHWM) from the current RSS; False where the kernel does not allow it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text -> {"name{labels}": value}; comments dropped."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            values[name] = float(value)
        except ValueError:
            continue
    return values


def metric_sum(values: Mapping[str, float], name: str) -> float:
    """The sum of a counter over all its label sets."""
    return sum(v for key, v in values.items()
               if key == name or key.startswith(name + "{"))


class BotProcess:
    """``python -m bot serve --no-scheduler`` against the fake, its log in a file."""

    def __init__(self, log_path: Path, config_path: Path, *,
                 profile_path: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The environment it starts with; the caller adds the App's (GITHUB_*).
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("GITHUB_", "BOT_", "DASHBOARD_", "LOG_"))}
        self.env["BOT_CONFIG"] = str(config_path)
        self.env["LOG_LEVEL"] = "INFO"  # as deployed
        self._log_path = log_path
        self._profile_path = profile_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self) -> None:
        command = [sys.executable]
        if self._profile_path is not None:
            # pyinstrument writes its profile when the server exits on SIGINT.
            command += ["-m", "pyinstrument", "--renderer", "text", "-o",
                        str(self._profile_path)]
        command += ["-m", "bot", "serve", "--port", str(self.port), "--no-scheduler"]
        self._log = self._log_path.open("wb")
        self.started_at = time.monotonic()
        self._proc = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env,
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      preexec_fn=_die_with_parent)

    async def wait_healthy(self, session: aiohttp.ClientSession, timeout: float = 30.0
                           ) -> float:
        """Seconds from ``start()`` until ``/healthz`` answered 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self._proc.returncode}; see "
                                   f"{self._log_path}")
            try:
                async with session.get(self.url + "/healthz") as resp:
                    if resp.status == 200:
                        await resp.read()
                        return time.monotonic() - self.started_at
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)
        raise TimeoutError(f"/healthz did not answer within {timeout} s; see {self._log_path}")

    async def health(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(self.url + "/healthz") as resp:
            data: dict[str, Any] = await resp.json()
            return data

    async def metrics(self, session: aiohttp.ClientSession) -> dict[str, float]:
        async with session.get(self.url + "/metrics") as resp:
            return parse_metrics(await resp.text())

    async def settle(self, session: aiohttp.ClientSession, processed: int,
                     timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the bot has finished PROCESSED deliveries in all and holds none."""
        deadline = time.monotonic() + timeout
        while True:
            health = await self.health(session)
            done = int(health["processed"]) + int(health["failed_deliveries"])
            if done >= processed and not health["queue_depth"] and not health["in_flight"]:
                return health
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not finish its deliveries: {health}")
            await asyncio.sleep(0.02)

    def memory(self) -> Memory:
        return read_memory(self.pid)

    def reset_peak(self) -> bool:
        return reset_peak(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self, timeout: float = 30.0) -> int:
        if self._proc is None:
            return 0
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._log is not None:
            self._log.close()
        code = self._proc.returncode
        self._proc = None
        return code
