from sync_pipeline.engine.mutations import Writer, WriteRejected

__all__ = ["WriteRejected", "Writer"]
