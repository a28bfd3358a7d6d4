"""The cover stage: minimal-change repair of a published roster after new absences (see
``docs/architecture.md``).
"""
