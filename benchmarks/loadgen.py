"""A small HTTP/1.1 load generator for webhook deliveries, run in a process of its own.

Each delivery opens a new TCP connection, sends one signed POST with ``Connection:
close`` and reads the answer, as GitHub's webhook sender does. It writes prepared
bytes straight to an asyncio transport: a general-purpose client (aiohttp) spends
more CPU per request than the server under test, and on two cores the generator
would then measure itself.

Two shapes of load:

- open loop (``rate``): delivery i is started at ``t0 + i / rate`` whether or not
  earlier ones were answered, so a slow server cannot slow the offered load down
  and hide its own latency;
- closed loop (``concurrency``): that many deliveries in flight, the next one
  started as soon as one is answered; gives the throughput.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import multiprocessing
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Shot:
    """One delivery as the generator saw it; times from ``time.perf_counter``."""

    status: int  # 0: no answer (connection refused, reset, timed out)
    intended: float  # when the schedule wanted it sent (open loop), else == started
    started: float  # just before the connection was opened
    answered: float  # when the whole answer had arrived

    @property
    def latency(self) -> float:
        return self.answered - self.started


@dataclass(frozen=True)
class LoadSpec:
    host: str
    port: int
    bodies: tuple[bytes, ...]  # cycled through
    event: str
    secret: str
    count: int
    rate: float | None = None  # open loop, deliveries a second
    concurrency: int | None = None  # closed loop
    timeout: float = 10.0


def _request(spec: LoadSpec, body: bytes, signature: str) -> bytes:
    delivery = str(uuid.uuid4())
    head = (
        f"POST /webhook HTTP/1.1\r\n"
        f"Host: {spec.host}:{spec.port}\r\n"
        f"User-Agent: GitHub-Hookshot/bench\r\n"
        f"Accept: */*\r\n"
        f"Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-GitHub-Event: {spec.event}\r\n"
        f"X-GitHub-Delivery: {delivery}\r\n"
        f"X-GitHub-Hook-ID: 1\r\n"
        f"X-GitHub-Hook-Installation-Target-Type: integration\r\n"
        f"X-Hub-Signature-256: {signature}\r\n"
        f"Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def prepare(spec: LoadSpec) -> list[bytes]:
    """Every request's bytes, signed, each with its own delivery id (done before timing)."""
    signatures = [
        "sha256=" + hmac.new(spec.secret.encode(), body, hashlib.sha256).hexdigest()
        for body in spec.bodies
    ]
    n = len(spec.bodies)
    return [_request(spec, spec.bodies[i % n], signatures[i % n]) for i in range(spec.count)]


class _Exchange(asyncio.Protocol):
    """Send one request, wait for the whole answer (status line, headers, body)."""

    def __init__(self, request: bytes, done: asyncio.Future[tuple[int, float]]) -> None:
        self._request = request
        self._done = done
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if len(self._buffer) - end - 4 >= length:
            status = int(head[0].split(" ", 2)[1])
            if not self._done.done():
                self._done.set_result((status, time.perf_counter()))
            assert self._transport is not None
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result((0, time.perf_counter()))


async def _shoot(host: str, port: int, request: bytes, intended: float, timeout: float
                 ) -> Shot:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[int, float]] = loop.create_future()
    started = time.perf_counter()
    transport: asyncio.BaseTransport | None = None
    try:
        transport, _ = await loop.create_connection(lambda: _Exchange(request, done), host,
                                                    port)
        status, answered = await asyncio.wait_for(done, timeout)
    except (OSError, TimeoutError):
        if transport is not None:
            transport.close()
        return Shot(0, intended, started, time.perf_counter())
    return Shot(status, intended, started, answered)


async def _open_loop(spec: LoadSpec, requests: Sequence[bytes]) -> list[Shot]:
    assert spec.rate is not None
    interval = 1.0 / spec.rate
    tasks: list[asyncio.Task[Shot]] = []
    t0 = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        intended = t0 + i * interval
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(
            _shoot(spec.host, spec.port, request, intended, spec.timeout)))
    return list(await asyncio.gather(*tasks))


async def _closed_loop(spec: LoadSpec, requests: Sequence[bytes]) -> list[Shot]:
    assert spec.concurrency is not None
    pending = iter(requests)
    shots: list[Shot] = []

    async def worker() -> None:
        for request in pending:
            now = time.perf_counter()
            shots.append(await _shoot(spec.host, spec.port, request, now, spec.timeout))

    await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
    return shots


@dataclass(frozen=True)
class LoadResult:
    shots: list[Shot]  # in the order they started
    cpu_seconds: float  # the generator's own CPU time while sending


def run_load(spec: LoadSpec) -> LoadResult:
    """Send the load from this process."""
    requests = prepare(spec)
    runner = _open_loop if spec.rate is not None else _closed_loop
    cpu = time.process_time()
    shots = asyncio.run(runner(spec, requests))
    cpu = time.process_time() - cpu
    return LoadResult(sorted(shots, key=lambda s: s.started), cpu)


def run_load_in_child(spec: LoadSpec) -> LoadResult:
    """``run_load`` in a fresh process, so the generator does not share the caller's core."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: LoadResult = pool.apply(run_load, (spec,))
    return result
