"""A PNG of recent history and the forecast, one panel per queue (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from staffplan.io.atomic import write_with
from staffplan.io.history import History


def plot_forecast(
    history: History,
    forecast: pd.DataFrame,
    path: str | Path,
    *,
    queues: Mapping[str, str] | None = None,
    weeks_shown: int = 4,
) -> Path:
    """Draw the last ``weeks_shown`` weeks of history and the forecast [contacts per interval] to
    ``path``.

    ``queues`` maps forecast queue names to history queue names (default: same).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(forecast["queue"]))
    queues = dict(queues) if queues is not None else {q: q for q in names}
    fig, axes = plt.subplots(
        len(names), 1, figsize=(12, 2.6 * max(len(names), 1)), squeeze=False, sharex=True
    )
    start = forecast["interval_start"].min() - pd.Timedelta(days=7 * weeks_shown)
    for ax, name in zip(axes[:, 0], names, strict=True):
        hist = history.queue_frame(queues.get(name, name))
        hist = hist[hist["interval_start"] >= start]
        fc = forecast[forecast["queue"] == name]
        # local wall-clock times on the axis (matplotlib would label tz-aware times in UTC)
        ax.plot(
            hist["interval_start"].dt.tz_localize(None),
            hist["offered"],
            lw=0.6,
            color="0.45",
            label="history (offered)",
        )
        ax.plot(
            fc["interval_start"].dt.tz_localize(None),
            fc["volume"],
            lw=0.9,
            color="tab:blue",
            label=f"forecast ({fc['method'].iloc[0]})" if len(fc) else "forecast",
        )
        ax.set_title(name, loc="left", fontsize=10)
        ax.set_ylabel(f"contacts / {history.interval_min} min")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    locator = mdates.AutoDateLocator(maxticks=12)
    axes[-1, 0].xaxis.set_major_locator(locator)
    axes[-1, 0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes[-1, 0].set_xlabel(f"local time ({history.timezone})")
    fig.tight_layout()

    def _save(tmp: str) -> None:
        fig.savefig(tmp, dpi=90, format="png", metadata={"Software": None})

    try:
        return write_with(path, _save)
    finally:
        plt.close(fig)
