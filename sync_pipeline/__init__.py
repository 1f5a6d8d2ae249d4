from sync_pipeline.engine.record_diff import RecordDiff, diff

__all__ = ["RecordDiff", "diff"]
