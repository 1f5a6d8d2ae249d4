"""Callables the demo's syncs.yaml names by import path (transforms and a custom rule)."""

from typing import Any

import pandas as pd


def clean_email(value: Any) -> Any:
    """Trim and lowercase an e-mail address; nulls stay null."""
    return value.strip().lower() if isinstance(value, str) else value


def squash_spaces(value: Any) -> Any:
    """Collapse runs of whitespace in a name."""
    return " ".join(value.split()) if isinstance(value, str) else value


def paid_orders_have_amount(frame: pd.DataFrame) -> pd.Series:
    """Custom rule: a paid or shipped order has a positive amount (True = row passes)."""
    needs_amount = frame["status"].isin(["paid", "shipped"])
    return ~needs_amount | (pd.to_numeric(frame["amount"], errors="coerce") > 0)
