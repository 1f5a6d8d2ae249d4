"""Values: the checks every source of values shares (library records, files, client writes).

A leaf package: it imports nothing from the rest of sync_pipeline, so every layer may use it.
"""
