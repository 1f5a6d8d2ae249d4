"""Dagster adapters: the only package (with definitions.py) that imports dagster."""
