"""The local process-pool backend: values, start events, retries of failed and killed tasks."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from tests.backends import tasks

from staffplan.backends import Done, Event, Failed, Started, Task, make_backend, run_tasks
from staffplan.backends.local import LocalBackend
from staffplan.errors import InputError
from staffplan.threads import THREAD_VARIABLES


def test_every_task_returns_its_value_after_its_start() -> None:
    events: list[Event] = []
    final = run_tasks(
        LocalBackend(2), tasks.power, 3, [Task(k, k) for k in range(5)], on_event=events.append
    )
    assert {k: ev.value for k, ev in final.items() if isinstance(ev, Done)} == {
        0: 0,
        1: 1,
        2: 8,
        3: 27,
        4: 64,
    }
    for k in range(5):
        mine = [ev for ev in events if ev.key == k]
        assert [type(ev) for ev in mine] == [Started, Done]
        assert mine[0].pid == mine[1].pid != os.getpid()
        assert final[k].attempt == 1


def test_a_failing_task_is_retried_once_then_reported() -> None:
    events: list[Event] = []
    final = run_tasks(
        LocalBackend(2), tasks.fail_on, 2, [Task(k, k) for k in range(4)], on_event=events.append
    )
    assert isinstance(final[2], Failed) and final[2].attempt == 2
    assert final[2].error == "ValueError: item 2 always fails"
    assert [ev.attempt for ev in events if ev.key == 2 and isinstance(ev, Started)] == [1, 2]
    assert {k: final[k].value for k in (0, 1, 3)} == {0: 0, 1: 1, 3: 3}


def test_no_retry_when_retries_is_zero() -> None:
    final = run_tasks(LocalBackend(1), tasks.fail_on, 0, [Task(0, 0)], retries=0)
    assert isinstance(final[0], Failed) and final[0].attempt == 1


def test_a_killed_worker_is_retried(tmp_path: Path) -> None:
    killed: list[int] = []

    def kill_first(ev: Event) -> None:
        if isinstance(ev, Started) and ev.key == 0 and not killed:
            os.kill(ev.pid, signal.SIGKILL)  # task 0 blocks until killed: it cannot finish first
            killed.append(ev.pid)
            (tmp_path / "released").write_text("")  # its retry returns at once

    final = run_tasks(
        LocalBackend(2),
        tasks.block_until_released,
        str(tmp_path),
        [Task(k, k) for k in range(4)],
        on_event=kill_first,
    )
    assert killed
    assert all(isinstance(ev, Done) for ev in final.values())
    assert {k: ev.value for k, ev in final.items()} == {0: 0, 1: 2, 2: 4, 3: 6}
    assert final[0].attempt == 2 and final[0].pid != killed[0]


@pytest.mark.parametrize("cpus", [1, 2])
def test_workers_size_their_numeric_thread_pools_to_the_tasks_cpus(
    cpus: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)  # spawned workers inherit this environment
    final = run_tasks(LocalBackend(1), tasks.numeric_threads, None, [Task(0, 0, cpus=cpus)])
    pools, omp = final[0].value
    assert omp == str(cpus)
    assert pools and set(pools.values()) == {cpus}, pools  # OpenBLAS at least: numpy's BLAS


def test_a_thread_count_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    final = run_tasks(LocalBackend(1), tasks.numeric_threads, None, [Task(0, 0, cpus=1)])
    assert final[0].value[1] == "3"


def test_backend_names_and_options_are_checked() -> None:
    with pytest.raises(InputError) as exc:
        make_backend("spark")
    assert exc.value.column == "--backend"
    with pytest.raises(InputError) as exc:
        make_backend("local", address="127.0.0.1:6379")
    assert exc.value.column == "--address"
    with pytest.raises(ValueError, match="unique"):
        run_tasks(LocalBackend(1), tasks.power, 1, [Task(0, 1), Task(0, 2)])
