"""``staffplan serve``: a web workspace over one scenario's plan store (pages and a JSON API).

``services`` is the one door into the engine; ``app`` the routes; ``views`` and ``charts`` what
the pages show; ``jobs`` the sick-call repairs running in worker threads; ``security`` the token,
session and CSRF checks.
"""
