"""Residual shrinkage: the share of on-phone agents lost to what the roster does not place.

``shrinkage`` in a scenario is the whole share of paid time off the phones,
breaks included. The roster places breaks (and trainings, meetings) itself,
so what is left — absenteeism, coaching, offline work — is the *residual*
shrinkage ``r``: each agent the roster puts on the phones in an interval is
not there with probability ``r``. The promised KPIs
(:mod:`staffplan.evaluate.kpis`), the roster's coverage target and the
simulation's losses all take ``r`` from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from staffplan.io.team import ShiftTemplate
from staffplan.scenario import Scenario


def residual_shrinkage(shrinkage: float, templates: Sequence[ShiftTemplate]) -> float:
    """Shrinkage left after the breaks the roster places explicitly [fraction].

    With ``b`` the mean fraction of a shift's length spent on breaks over the
    templates, ``1 − residual = (1 − shrinkage) / (1 − b)``, clipped to
    [0, shrinkage]; without templates the residual is the whole shrinkage.
    """
    if not templates or shrinkage <= 0:
        return max(shrinkage, 0.0)
    b = float(np.mean([sum(x.minutes for x in t.breaks) / t.length_min for t in templates]))
    if b >= 1:
        return 0.0
    r = 1.0 - (1.0 - shrinkage) / (1.0 - b)
    return float(min(max(r, 0.0), shrinkage))


def scenario_templates(scenario: Scenario) -> tuple[ShiftTemplate, ...]:
    """The scenario's shift templates (its ``shifts`` file), or none when it has no such file."""
    from staffplan.io.team import read_shifts

    path = scenario.file("shifts", required=False)
    return tuple(read_shifts(path)) if path is not None else ()


def queue_shrinkage(scenario: Scenario, queue: str) -> float:
    """The whole shrinkage of a queue [fraction]: its own ``shrinkage``, else the scenario's."""
    own = scenario.queue(queue).shrinkage
    return float(own if own is not None else scenario.shrinkage)


def queue_residuals(
    scenario: Scenario, templates: Sequence[ShiftTemplate] | None = None
) -> dict[str, float]:
    """Residual shrinkage per queue name [fraction] (``templates`` default: the scenario's)."""
    tpl = scenario_templates(scenario) if templates is None else tuple(templates)
    return {
        q.name: residual_shrinkage(queue_shrinkage(scenario, q.name), tpl) for q in scenario.queues
    }
