"""The roster stage: a frozen problem in, a solved roster out (see ``docs/architecture.md``).

Import from the modules: :mod:`~staffplan.roster.engine` (``plan``),
:mod:`~staffplan.roster.build`, :mod:`~staffplan.roster.solver`,
:mod:`~staffplan.roster.extract` and the others. This package file imports
nothing, so that loading one module does not load the whole engine.
"""
