"""The built CP-SAT roster model: :class:`RosterModel`, its named objective :class:`Term` s and the
enforcement :class:`Guard` s that explain infeasibility.

A :class:`RosterModel` holds the model, its decision literals
(``x[(agent_id, day, variant_id)]``: the agent works that shift variant on horizon
day ``day``; ``work[(agent_id, day)]``: works any shift that day) and lookup
tables the rules and the stages after the solve share. The objective is never set
when a model is built: the solve minimises ``Σ coef × var`` over ``terms``
(:func:`objective_expr`), so later stages add constraints with ``rm.model.Add``
and terms with :meth:`RosterModel.add_term`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from staffplan.roster.problem import SCALE, RosterProblem, Variant


@dataclass(frozen=True)
class Term:
    """One objective term: ``coef × var`` [objective units × SCALE], with a readable name."""

    rule: str
    name: str
    var: cp_model.IntVar
    coef: int


@dataclass(frozen=True)
class Guard:
    """What an enforcement literal stands for, for infeasibility explanations."""

    rule: str
    agent: str
    detail: str


@dataclass(eq=False)
class RosterModel:
    """A built CP-SAT model with its literals, penalty terms and lookup tables."""

    problem: RosterProblem
    model: cp_model.CpModel
    x: dict[tuple[str, int, str], cp_model.IntVar] = field(default_factory=dict)
    options: dict[tuple[str, int], list[Variant]] = field(default_factory=dict)
    work: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    guards: dict[int, Guard] = field(default_factory=dict)
    explain: bool = False
    phone: dict[tuple[int, str], tuple[int, int, tuple[tuple[int, int], ...]]] = field(
        default_factory=dict
    )
    plan_holes: dict[tuple[int, str], tuple[tuple[tuple[int, int], ...], ...]] = field(
        default_factory=dict
    )
    breaks: dict[tuple[tuple[int, ...], int, str], tuple[list[str], list[cp_model.IntVar]]] = field(
        default_factory=dict
    )
    elapsed: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    coverage: dict[tuple[int, int], cp_model.LinearExprT] = field(default_factory=dict)
    cover_parts: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)
    """(queue, interval) -> (variable index, coefficient) of the on-phone agents allocated there."""
    activities: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    guard_vars: dict[tuple[str, str, str], cp_model.IntVar] = field(default_factory=dict)
    cache: dict[str, object] = field(default_factory=dict)
    kept: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    """(agent, day) -> (paid minutes, elapsed end [min]) of a shift kept as it is on a day with no
    options (a cover keeps the shift an absence cut): the day counts as worked, its minutes as
    paid, and rest runs from its end."""
    _shifts: dict[tuple[str, int], list[tuple[Variant, cp_model.IntVar]]] = field(
        default_factory=dict, repr=False
    )

    def add_term(self, rule: str, name: str, var: cp_model.IntVar, coef: int) -> Term:
        """Add an objective term ``coef × var`` (coef already scaled by SCALE) and return it."""
        term = Term(rule, name, var, int(coef))
        if term.coef != 0:
            self.terms.append(term)
        return term

    def guard(self, rule: str, agent: str, detail: str = "") -> list[cp_model.IntVar]:
        """Enforcement literals for a hard rule: [] normally, one named literal in explain mode."""
        if not self.explain:
            return []
        key = (rule, agent, detail)
        if key not in self.guard_vars:
            lit = self.model.NewBoolVar(f"enforce[{rule}|{agent}|{detail}]")
            self.guard_vars[key] = lit
            self.guards[lit.Index()] = Guard(rule, agent, detail)
        return [self.guard_vars[key]]

    def guard_literals(self) -> list[cp_model.IntVar]:
        """All enforcement literals (explain mode), in creation order."""
        return list(self.guard_vars.values())

    def shifts(self, agent: str, day: int) -> list[tuple[Variant, cp_model.IntVar]]:
        """The agent's (variant, literal) options on ``day`` (a fresh list; the pairs are made once
        per agent and day, since the rules ask for them again and again)."""
        key = (agent, day)
        pairs = self._shifts.get(key)
        if pairs is None:
            if key not in self.options:
                return []
            pairs = [(v, self.x[(agent, day, v.id)]) for v in self.options[key]]
            self._shifts[key] = pairs
        return list(pairs)

    def worked(self, agent: str, day: int) -> cp_model.IntVar | int:
        """The works-that-day literal; 1 on a day with a kept shift; 0 if the agent cannot work."""
        if (agent, day) in self.kept:
            return 1
        return self.work.get((agent, day), 0)


def objective_expr(rm: RosterModel) -> cp_model.LinearExprT:
    """``Σ coef × var`` over the model's terms [objective units × SCALE]."""
    return (
        cp_model.LinearExpr.WeightedSum([t.var for t in rm.terms], [t.coef for t in rm.terms])
        if rm.terms
        else 0
    )


def scaled(weight: float) -> int:
    """An objective weight as an integer coefficient (× SCALE)."""
    return int(round(weight * SCALE))
