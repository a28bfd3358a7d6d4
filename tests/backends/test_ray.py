"""The Ray backend on a real local cluster: values, start events, retries of failed and killed
tasks, clear errors for a missing cluster.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.backends import tasks

from staffplan.backends import Done, Event, Failed, Started, Task, run_tasks
from staffplan.backends.ray import RayBackend
from staffplan.errors import InputError


@pytest.fixture
def backend(ray_address: str) -> Iterator[RayBackend]:
    be = RayBackend(ray_address)
    try:
        yield be
    finally:
        be.close()


def test_tasks_return_their_values_after_their_starts(backend: RayBackend) -> None:
    events: list[Event] = []
    final = run_tasks(
        backend, tasks.power, 2, [Task(k, k) for k in range(4)], on_event=events.append
    )
    assert {k: ev.value for k, ev in final.items() if isinstance(ev, Done)} == {
        0: 0,
        1: 1,
        2: 4,
        3: 9,
    }
    for k in range(4):
        mine = [ev for ev in events if ev.key == k]
        assert [type(ev) for ev in mine] == [Started, Done]
        assert mine[0].pid == mine[1].pid != os.getpid()


def test_a_failing_task_is_retried_once_then_reported(backend: RayBackend) -> None:
    events: list[Event] = []
    final = run_tasks(
        backend, tasks.fail_on, 1, [Task(k, k) for k in range(3)], on_event=events.append
    )
    assert isinstance(final[1], Failed) and final[1].attempt == 2
    assert final[1].error == "ValueError: item 1 always fails"
    assert [ev.attempt for ev in events if ev.key == 1 and isinstance(ev, Started)] == [1, 2]
    assert final[0].value == 0 and final[2].value == 2


def test_a_killed_worker_is_retried(backend: RayBackend, tmp_path: Path) -> None:
    killed: list[int] = []

    def kill_first(ev: Event) -> None:
        if isinstance(ev, Started) and ev.key == 0 and not killed:
            os.kill(ev.pid, signal.SIGKILL)  # task 0 blocks until killed: it cannot finish first
            killed.append(ev.pid)
            (tmp_path / "released").write_text("")  # its retry returns at once

    final = run_tasks(
        backend,
        tasks.block_until_released,
        str(tmp_path),
        [Task(k, k) for k in range(3)],
        on_event=kill_first,
    )
    assert killed
    assert {k: ev.value for k, ev in final.items() if isinstance(ev, Done)} == {0: 0, 1: 2, 2: 4}
    assert final[0].attempt == 2 and final[0].pid != killed[0]
    assert final[1].attempt == final[2].attempt == 1  # Ray loses only the killed worker's task


def test_a_task_asking_more_cpus_than_any_node_is_refused(backend: RayBackend) -> None:
    with pytest.raises(InputError) as exc:
        run_tasks(backend, tasks.power, 1, [Task(0, 1, cpus=64)])
    assert exc.value.column == "--workers"


def test_an_address_where_nothing_listens_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(InputError) as exc:
            RayBackend(f"127.0.0.1:{port}")
    assert exc.value.column == "--address" and "cannot reach" in exc.value.message
    with pytest.raises(InputError, match="bad Ray address"):
        RayBackend("ray://head:10001")
