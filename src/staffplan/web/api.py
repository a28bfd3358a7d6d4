"""The workspace's JSON API: versions, rosters, cover (propose and apply) and validation, and a
page-started repair's progress (docs/formats.md, "Web workspace"). Bodies are JSON objects with
known keys only; errors are ``{"error": "one line"}``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from staffplan.web.services import frame_rows
from staffplan.web.site import Site


class ApiError(Exception):
    """A JSON API error with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def jsonable(obj: Any) -> Any:
    """Frames' values as JSON: numpy scalars as numbers, NaN and infinities as null."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, pd.Timestamp | dt.datetime | dt.date):
        return obj.isoformat()
    return obj


def api_json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(content), status_code=status)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; :class:`ApiError` 400 for anything else."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(400, "expected Content-Type: application/json")
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    return body


def check_keys(
    body: Mapping[str, Any], spec: Mapping[str, tuple[type | tuple[type, ...], bool]]
) -> None:
    """Refuse unknown keys, missing required ones and values of the wrong type (400)."""
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise ApiError(400, f"unknown key '{unknown[0]}'; expected keys: {', '.join(spec)}")
    for key, (types, required) in spec.items():
        if key not in body:
            if required:
                raise ApiError(400, f"missing key '{key}'")
            continue
        value = body[key]
        wanted = types if isinstance(types, tuple) else (types,)
        bad = (isinstance(value, bool) and bool not in wanted) or not isinstance(value, wanted)
        if bad and not (value is None and not required):
            names = " or ".join(t.__name__ for t in wanted)
            raise ApiError(400, f"key '{key}': expected {names}, found {json.dumps(value)}")


def register(app: FastAPI, site: Site) -> None:
    """Add the API routes to ``app``."""
    ws, jobs = site.ws, site.jobs

    @app.get("/api/versions")
    def api_versions() -> Response:
        return api_json(
            {
                "versions": [
                    {
                        "version": v.number,
                        "parent": v.parent,
                        "kind": v.kind,
                        "author": v.author,
                        "note": v.note,
                        "created": v.created_utc,
                        "rows": v.n_rows,
                        "changes": v.n_changes,
                        "absences": v.n_absences,
                        "violations": v.n_violations,
                    }
                    for v in ws.versions()
                ]
            }
        )

    @app.get("/api/roster")
    def api_roster(version: int | None = None) -> Response:
        n = ws.store.resolve(version)
        rows = ws.store.roster(n).to_dict(orient="records")
        return api_json({"version": n, "rows": rows})

    @app.post("/api/validate")
    async def api_validate(request: Request) -> Response:
        body = await json_body(request)
        check_keys(body, {"rows": (list, True)})

        def work() -> dict[str, Any]:
            roster = frame_rows(body["rows"])
            found = ws.validate(roster)
            return {
                "ok": not found,
                "recorded_absences": len(ws.store.absences()),
                "violations": [v.as_dict() for v in found],
            }

        return api_json(await run_in_threadpool(work))

    @app.post("/api/cover")
    async def api_cover(request: Request) -> Response:
        body = await json_body(request)
        check_keys(
            body,
            {
                "absent": (list, True),
                "now": (str, True),
                "base_version": (int, False),
                "apply": (bool, False),
                "kind": (str, False),
                "author": (str, False),
                "note": (str, False),
                "time_limit_s": ((int, float), False),
            },
        )
        if not all(isinstance(a, str) for a in body["absent"]):
            raise ApiError(400, "key 'absent': expected a list of 'AGENT:DATE' strings")
        proposal = await run_in_threadpool(
            lambda: ws.propose_cover(
                body["absent"],
                body["now"],
                base_version=body.get("base_version"),
                kind=body.get("kind") or "sick",
                time_limit_s=body.get("time_limit_s"),
            )
        )
        version = None
        if body.get("apply"):
            version = await run_in_threadpool(
                lambda: ws.apply_cover(
                    proposal, author=body.get("author"), note=body.get("note") or ""
                )
            )
        return api_json(proposal.as_json(version))

    @app.get("/api/jobs/{job_id}")
    def api_job(job_id: str) -> Response:
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, "no such job")
        return api_json(job.progress())

    @app.get("/api/compare/scenarios")
    def api_compare_choices() -> Response:
        return api_json(
            {
                "scenarios": [
                    {"index": i, "name": c.name, "file": c.path.name}
                    for i, c in enumerate(ws.compare_choices)
                ]
            }
        )

    @app.post("/api/compare")
    async def api_compare(request: Request) -> Response:
        body = await json_body(request)
        unknown = sorted(set(body) - {"scenarios"})
        if unknown:
            raise ApiError(400, f"unknown key {unknown[0]!r}: expected scenarios")
        chosen = body.get("scenarios")
        if not isinstance(chosen, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in chosen
        ):
            raise ApiError(
                400, "scenarios: expected a list of positions from /api/compare/scenarios"
            )
        job, started = site.comparisons.start(tuple(chosen))
        doc = {**comparison_json(job), "started": started}
        if not started:
            doc["error"] = f"another comparison is running: follow /api/compare/{job.id}"
        return api_json(doc, 202 if started else 409)

    @app.get("/api/compare/{job_id}")
    def api_compare_job(job_id: str) -> Response:
        job = site.comparisons.get(job_id)
        if job is None:
            raise ApiError(404, "no such comparison")
        return api_json(comparison_json(job))


def comparison_json(job: Any) -> dict[str, Any]:
    """A comparison's progress, and once done its table (``pipeline.compare_table``'s rows) and
    the scenarios' summaries (as ``staffplan compare --json`` prints them).
    """
    doc = job.progress()
    done = job.result
    if done is not None:
        doc["table"] = done.table.to_dict(orient="records")
        doc["summaries"] = list(done.summaries)
    return doc
