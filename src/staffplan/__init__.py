"""staffplan: staffing and schedule planning for contact centers."""

__version__ = "0.1.0"
