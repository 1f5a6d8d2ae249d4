"""Values: column kinds, one parser per kind with named policies, and the checks they share.

A leaf package: it imports nothing from the rest of sync_pipeline but errors, so every layer may
use it (see ruff.toml here).
"""
