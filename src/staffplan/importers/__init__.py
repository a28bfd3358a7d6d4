"""Importers of external formats into staffplan scenarios.

``curtois``: the Curtois & Qu employee shift-scheduling benchmark instances.
"""
