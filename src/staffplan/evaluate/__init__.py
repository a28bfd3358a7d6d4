"""Evaluate rosters: KPIs via the queueing core, and discrete-event simulation."""
