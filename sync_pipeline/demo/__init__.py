"""The embedded-default demo: `python -m sync_pipeline.demo` (or `make demo`)."""
