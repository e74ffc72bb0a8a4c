"""The simulator's callbacks: a ticker that looks at tasks whose status may have changed and
POSTs each dialect's callback body, retrying terminal ones as Ark documents (4 tries, 5 s
apart). A mixin of `SimEngine`, whose lock, clock, tasks and clients it uses."""

from __future__ import annotations

import heapq
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # the engine imports this module
    from projects.upstream_sim.engine import SimTask

logger = logging.getLogger("projects.upstream_sim.engine")


class CallbackSender:
    """Sends the callbacks of `SimEngine`'s tasks (see the module docstring)."""

    def _tick_forever(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self._send_due_callbacks()
            except Exception:  # the ticker must survive anything a dialect does
                logger.exception("simulator ticker failed")

    def _send_due_callbacks(self) -> None:
        # A heap of (upstream time to look again, task id): only tasks that may have changed
        # are examined, so a thousand tasks in flight cost little.
        now = self.now()
        due = []
        with self._lock:
            while self._watch and self._watch[0][0] <= now:
                _, task_id = heapq.heappop(self._watch)
                task = self.tasks.get(task_id)
                if task is None or not task.callback_url:
                    continue
                status = task.status_at(now)
                if not task.notified or task.notified[-1] != status:
                    task.notified.append(status)
                    due.append((task, status))
                    self._posting[task.id] += 1  # counted before the lock goes: see quiet
                if status in ("queued", "running"):
                    # Look again at the next transition, or within a real second anyway (tests
                    # reshape tasks in flight).
                    heapq.heappush(
                        self._watch, (min(self._next_change(task, now), now + self.speed), task.id)
                    )
        for task, status in due:
            dialect = self._dialects.get(task.dialect)
            body = None if dialect is None else dialect.callback_body(self, task, status)
            if body is None:
                self._posted(task.id)
                continue
            terminal = status in ("succeeded", "failed", "expired", "cancelled")
            self._callback_pool.submit(
                self._post_callback, task.id, task.callback_url, body, terminal
            )

    def _posted(self, task_id: str) -> None:
        with self._lock:
            self._posting[task_id] -= 1

    def callbacks_quiet(
        self, task_id: str, *, until_ended: bool = False, timeout: float = 10.0
    ) -> bool:
        """Wait, at most `timeout` real seconds, until every status task `task_id` has
        reached (with `until_ended`, once it has ended) has been posted to its callback_url,
        retries included, and no post for it is in flight. Once a task has ended, nothing more
        will follow: tests wait on this rather than sleep to show that nothing else is sent.
        True when quiet (or the task has no callback_url or is unknown), False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                task = self.tasks.get(task_id)
                if task is None or not task.callback_url:
                    return True
                status = task.status_at(self.now())
                ended = status in ("succeeded", "failed", "expired", "cancelled")
                if (
                    task.notified[-1:] == [status]
                    and not self._posting[task_id]
                    and (ended or not until_ended)
                ):
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    @staticmethod
    def _next_change(task: SimTask, now: float) -> float:
        started = task.created_at + task.queue_s
        finished = started + task.render_s
        moments = [started, finished]
        if task.expires_after is not None:
            moments.append(task.created_at + task.expires_after)
        return min([m for m in moments if m > now], default=now)

    def _post_callback(self, task_id: str, url: str, body: dict[str, Any], terminal: bool) -> None:
        try:
            self._post_with_retries(url, body, terminal)
        finally:
            self._posted(task_id)

    def _post_with_retries(self, url: str, body: dict[str, Any], terminal: bool) -> None:
        # Ark: "if no successful acknowledgement within 5 s, retries 3 times" (terminal states).
        attempts = 4 if terminal else 1
        for attempt in range(attempts):
            status: int | None = None
            try:
                response = self._callback_client.post(
                    url,
                    content=json.dumps(body),
                    timeout=5.0,
                    headers={"Content-Type": "application/json"},
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                logger.info("callback to %s failed: %s", url, type(exc).__name__)
            with self._lock:
                self.callbacks_sent.append(
                    {"url": url, "body": body, "status": status, "attempt": attempt}
                )
            if status is not None and 200 <= status < 300:
                return
            if self._stop.wait(min(1.0, 5.0 / max(self.speed, 1.0))):
                return
