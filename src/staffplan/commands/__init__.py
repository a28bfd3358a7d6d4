"""CLI commands, one module per area; imported lazily by :mod:`staffplan.cli`."""
