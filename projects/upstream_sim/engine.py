"""The simulator's state: tasks walking through their statuses on a configurable clock,
injected faults, the requests it received, and the callbacks it owes.

Time: each task has a queue time and a render time in *upstream seconds*; the clock runs
`speed` upstream seconds per real second, so `speed=10` turns a 120 s render into 12 s.
Everything here is thread-safe: the HTTP server handles each connection on its own thread.
"""

from __future__ import annotations

import heapq
import logging
import random
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from projects.upstream_sim.callbacks import CallbackSender
from projects.upstream_sim.faults import FAULT_KINDS, Fault
from projects.upstream_sim.media_fetch import ReferenceFetcher
from projects.upstream_sim.outputs import OutputFiles

logger = logging.getLogger(__name__)


@dataclass
class SimTask:
    """One simulated upstream task; times in upstream seconds since the clock started."""

    id: str
    dialect: str
    model: str
    body: dict[str, Any]
    created_at: float
    created_wall: float  # unix time, real seconds
    queue_s: float
    render_s: float
    duration_s: int
    resolution: str
    ratio: str
    audio: bool
    frames: int | None = None  # an Ark `frames` request: the video has exactly this many
    outcome: str = "succeeded"  # succeeded | failed | expired
    error_code: str = ""
    error_message: str = ""
    callback_url: str = ""
    return_last_frame: bool = False
    link_expired: bool = False
    expired_link_rounds: int = 0  # answers whose output links come out already expired
    pad_bytes: int = 0
    cancelled_at: float | None = None
    expires_after: float | None = None
    notified: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def status_at(self, now: float) -> str:
        """queued | running | succeeded | failed | expired | cancelled at upstream time `now`."""
        if self.cancelled_at is not None and self.cancelled_at <= now:
            return "cancelled"
        started = self.created_at + self.queue_s
        finished = started + self.render_s
        # Past execution_expires_after before it could finish: expired, for good.
        if (
            self.expires_after is not None
            and self.created_at + self.expires_after < finished
            and now >= self.created_at + self.expires_after
        ):
            return "expired"
        if now < started:
            return "queued"
        if now < finished:
            return "running"
        return self.outcome

    def finished_at(self) -> float:
        return self.created_at + self.queue_s + self.render_s


class SimEngine(OutputFiles, CallbackSender, ReferenceFetcher):
    """Tasks, faults, request log and callbacks of one simulator instance."""

    def __init__(
        self,
        *,
        speed: float = 10.0,
        render_range: tuple[float, float] = (60.0, 180.0),
        queue_range: tuple[float, float] = (1.0, 8.0),
        cache_dir: Path,
        seed: int | None = None,
        link_ttl: float = 3600.0,
        fault_rate: float = 0.0,
        fetch_media: bool = True,
    ) -> None:
        self.speed = speed
        self.render_range = render_range
        self.queue_range = queue_range
        self.cache_dir = cache_dir
        self.link_ttl = link_ttl
        self.fault_rate = fault_rate
        self.fetch_media = fetch_media
        self.public_url = ""  # set by the server once bound
        self._rng = random.Random(seed)
        self._secret = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self.tasks: dict[str, SimTask] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.counters: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()  # kind -> times it fired
        self.faults_by_dialect: Counter[tuple[str, str]] = Counter()  # (dialect, kind)
        self.status_asks: Counter[str] = Counter()
        self.status_share: Counter[str] = Counter()
        self.callbacks_sent: list[dict[str, Any]] = []
        self._posting: Counter[str] = Counter()  # task id -> callback posts not yet done
        self.media_fetches: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._callback_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sim-callback")
        self._dialects: dict[str, Any] = {}
        self._watch: list[tuple[float, str]] = []
        self._callback_client = httpx.Client(timeout=5.0)
        # One client for reference fetches: a client per fetch loads the CA bundle (~16 ms).
        self._media_client = httpx.Client(timeout=10.0, follow_redirects=True)
        self._ticker = threading.Thread(target=self._tick_forever, name="sim-ticker", daemon=True)

    # --- clock -----------------------------------------------------------------------------
    def now(self) -> float:
        """Upstream seconds since the simulator started."""
        return (time.monotonic() - self._t0) * self.speed

    def real_seconds(self, upstream_seconds: float) -> float:
        return upstream_seconds / self.speed

    # --- lifecycle -------------------------------------------------------------------------
    def register_dialect(self, dialect: Any) -> None:
        self._dialects[dialect.name] = dialect

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        self._callback_pool.shutdown(wait=False, cancel_futures=True)
        self._callback_client.close()
        self._media_client.close()

    def reset(self) -> None:
        with self._lock:
            self.tasks.clear()
            self._watch.clear()
            self.faults.clear()
            self.requests.clear()
            self.counters.clear()
            self.faults_injected.clear()
            self.faults_by_dialect.clear()
            self.status_asks.clear()
            self.status_share.clear()
            self.callbacks_sent.clear()
            self._posting.clear()
            self.media_fetches.clear()

    # --- faults ----------------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {sorted(FAULT_KINDS)}")
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, *, op: str, dialect: str, kinds: set[str]) -> Fault | None:
        """Consume the first queued fault of `kinds` for this op, else maybe a random one."""
        with self._lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(op=op, dialect=dialect):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    self._count_fault(fault.kind, dialect)
                    return fault
            if self.fault_rate and self._rng.random() < self.fault_rate:
                choices = sorted(kinds & self._random_kinds(op))
                if choices:
                    fault = Fault(kind=self._rng.choice(choices), op=op, hang_s=3.0)
                    self._count_fault(fault.kind, dialect)
                    return fault
        return None

    def _count_fault(self, kind: str, dialect: str) -> None:
        self.faults_injected[kind] += 1
        self.faults_by_dialect[(dialect, kind)] += 1

    @staticmethod
    def _random_kinds(op: str) -> set[str]:
        """The kinds a random fault (`fault_rate`) may take for `op`: together every kind in
        FAULT_KINDS, each where a gateway could plausibly produce it."""
        if op == "create":
            return {
                "http_400",
                "http_401",
                "http_403",
                "http_429",
                "http_500",
                "http_503",
                "malformed",
                "lost_create",
                "drop",
                "moderation_input",
                "moderation_output",
                "fail",
                "expire",
                "link_expired",
                "link_expired_once",
                "timeout",
            }
        if op in ("get", "list"):
            return {"http_404", "http_429", "http_500", "http_503", "malformed", "drop", "timeout"}
        if op == "file":
            return {"http_500", "drop"}
        return set()

    # --- request log -----------------------------------------------------------------------
    def count_status(self, task_ids: list[str]) -> None:
        """Account one status request that answered about `task_ids`: each task is asked once
        (`status_asks`) and bears 1/len share of the request (`status_share`)."""
        if not task_ids:
            return
        with self._lock:
            for task_id in task_ids:
                self.status_asks[task_id] += 1
                self.status_share[task_id] += 1 / len(task_ids)

    def record(self, *, dialect: str, op: str, method: str, path: str, body: Any) -> None:
        with self._lock:
            self.counters[f"{dialect}:{op}"] += 1
            self.requests.append(
                {
                    "dialect": dialect,
                    "op": op,
                    "method": method,
                    "path": path,
                    "body": body,
                    "at": time.time(),
                }
            )

    # --- tasks -----------------------------------------------------------------------------
    def create_task(
        self,
        *,
        dialect: str,
        task_id: str,
        model: str,
        body: dict[str, Any],
        duration_s: int,
        resolution: str,
        ratio: str,
        audio: bool,
        callback_url: str = "",
        return_last_frame: bool = False,
        expires_after: float | None = None,
        task_fault: Fault | None = None,
        extra: dict[str, Any] | None = None,
        frames: int | None = None,
    ) -> SimTask:
        """Create and store a task; `duration_s` -1 picks 5-10 s like a model would."""
        with self._lock:
            if duration_s == -1:
                duration_s = self._rng.randint(5, 10)
            task = SimTask(
                id=task_id,
                dialect=dialect,
                model=model,
                body=body,
                created_at=self.now(),
                created_wall=time.time(),
                queue_s=self._rng.uniform(*self.queue_range),
                render_s=self._rng.uniform(*self.render_range),
                duration_s=duration_s,
                resolution=resolution,
                ratio=ratio,
                audio=audio,
                callback_url=callback_url,
                return_last_frame=return_last_frame,
                expires_after=expires_after,
                extra=extra or {},
                frames=frames,
            )
            if task_fault is not None:
                self._apply_task_fault(task, task_fault.kind)
            self.tasks[task_id] = task
            if task.callback_url:
                heapq.heappush(self._watch, (task.created_at, task.id))
            return task

    def _apply_task_fault(self, task: SimTask, kind: str) -> None:
        if kind == "moderation_output":
            task.outcome = "failed"
            task.error_code = "OutputVideoSensitiveContentDetected"
            task.error_message = (
                "The request failed because the output video may contain sensitive "
                "information. Request id: 021778724921967000000000000000000000000000000000"
            )
        elif kind == "fail":
            task.outcome = "failed"
            task.error_code = "InternalServiceError"
            task.error_message = "The service encountered an unexpected internal error."
        elif kind == "expire":
            task.outcome = "expired"
            task.error_code = "TaskExpired"
            task.error_message = "The task exceeded execution_expires_after."
        elif kind == "link_expired":
            task.link_expired = True
        elif kind == "link_expired_once":
            task.expired_link_rounds = 1

    def get_task(self, task_id: str) -> SimTask | None:
        with self._lock:
            return self.tasks.get(task_id)

    def tasks_of(self, dialect: str) -> list[SimTask]:
        """A snapshot of one dialect's tasks."""
        with self._lock:
            return [task for task in self.tasks.values() if task.dialect == dialect]

    def delete_task(self, task_id: str) -> bool:
        """Forget a task (Ark's DELETE of a finished one); whether it existed."""
        with self._lock:
            return self.tasks.pop(task_id, None) is not None

    def cancel_task(self, task: SimTask, *, allowed: set[str]) -> tuple[bool, str]:
        """Cancel if the task's current status is in `allowed`; (done, status before)."""
        with self._lock:
            status = task.status_at(self.now())
            if status not in allowed:
                return False, status
            task.cancelled_at = self.now()
            heapq.heappush(self._watch, (self.now(), task.id))
            return True, status

    # --- introspection ---------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Counters and task states, for /_sim/stats and benchmarks."""
        now = self.now()
        with self._lock:
            states = Counter(task.status_at(now) for task in self.tasks.values())
            finished = {
                task.id: task.created_wall + self.real_seconds(task.finished_at() - task.created_at)
                for task in self.tasks.values()
            }
            return {
                "now": now,
                "speed": self.speed,
                "tasks": len(self.tasks),
                "states": dict(states),
                "counters": dict(self.counters),
                "faults_injected": dict(self.faults_injected),
                "faults_by_dialect": _nested(self.faults_by_dialect),
                "callbacks_sent": len(self.callbacks_sent),
                "finished_wall": finished,
                "status_asks": dict(self.status_asks),
                "status_share": dict(self.status_share),
            }

    def task_list(self) -> list[dict[str, Any]]:
        """Every task created, with the create body it came from (for /_sim/tasks: a chaos run
        attributes each upstream task to the request, hence to our task, that made it)."""
        now = self.now()
        with self._lock:
            return [
                {
                    "id": task.id,
                    "dialect": task.dialect,
                    "model": task.model,
                    "status": task.status_at(now),
                    "created_wall": task.created_wall,
                    "body": task.body,
                }
                for task in self.tasks.values()
            ]


def _nested(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """{(a, b): n} as {a: {b: n}} (JSON has no tuple keys)."""
    out: dict[str, dict[str, int]] = {}
    for (outer, inner), count in counts.items():
        out.setdefault(outer, {})[inner] = count
    return out
