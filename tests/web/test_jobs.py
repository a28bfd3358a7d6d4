"""Sick-call repairs started from pages: in worker threads, one per scenario at a time, with
their progress; failures as one line.
"""

from __future__ import annotations

from staffplan.web.jobs import Jobs
from staffplan.web.services import Workspace

REQUEST = {"absent": ["A1:2026-12-09"], "now": "2026-12-09T06:00", "base_version": 1}


def test_a_second_repair_waits_for_the_first(ws: Workspace) -> None:
    jobs = Jobs(ws)
    try:
        ws.repair_lock.acquire()  # another repair of this scenario is running
        try:
            job = jobs.submit(REQUEST)
            assert job.waiting.wait(timeout=600)
            p = job.progress()
            assert (p["state"], p["elapsed_s"], p["time_limit_s"]) == ("waiting", 0.0, 10.0)
            assert not job.finished.is_set()
        finally:
            ws.repair_lock.release()
        assert job.finished.wait(timeout=600)
        p = job.progress()
        assert p["state"] == "done" and p["error"] is None and p["elapsed_s"] > 0
        assert job.proposal is not None and job.proposal.base_version == 1
        assert jobs.get(job.id) is job and jobs.get("unknown") is None
    finally:
        jobs.shutdown()


def test_a_bad_request_fails_with_one_line(ws: Workspace) -> None:
    jobs = Jobs(ws)
    try:
        job = jobs.submit({**REQUEST, "absent": ["A99:2026-12-09"]})
        assert job.finished.wait(timeout=600)
        p = job.progress()
        assert p["state"] == "failed" and "unknown agent" in p["error"]
        assert "\n" not in p["error"] and job.proposal is None
    finally:
        jobs.shutdown()


def test_only_the_newest_jobs_are_kept(ws: Workspace) -> None:
    jobs = Jobs(ws, keep=2)
    try:
        done = [jobs.submit({**REQUEST, "absent": ["A99:2026-12-09"]}) for _ in range(3)]
        for j in done:
            assert j.finished.wait(timeout=600)
        assert jobs.get(done[0].id) is None and jobs.get(done[2].id) is done[2]
    finally:
        jobs.shutdown()
