"""Forecasting: volumes and handle times per queue and interval, with backtests.

Public API: :func:`forecast_scenario`, :func:`forecast_history`,
:func:`forecast_grid`, :func:`backtest` and the method names in :data:`METHODS`.
"""

from staffplan.forecast.methods import METHODS
from staffplan.forecast.pipeline import (
    FORECAST_COLUMNS,
    ForecastResult,
    backtest,
    forecast_grid,
    forecast_history,
    forecast_scenario,
    run_scenario,
)

__all__ = [
    "FORECAST_COLUMNS",
    "METHODS",
    "ForecastResult",
    "backtest",
    "forecast_grid",
    "forecast_history",
    "forecast_scenario",
    "run_scenario",
]
