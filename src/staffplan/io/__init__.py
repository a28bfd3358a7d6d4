"""Readers with validation and atomic writers."""
