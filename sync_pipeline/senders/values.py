"""Tagged JSON values for senders: the documented import path of sync_pipeline.values.tagged."""

from sync_pipeline.values.tagged import (
    TAG_KEY,
    TAG_NAMES,
    TaggedValueError,
    decode_tagged,
    decode_tagged_value,
    encode_tagged,
    is_tagged,
)

__all__ = [
    "TAG_KEY",
    "TAG_NAMES",
    "TaggedValueError",
    "decode_tagged",
    "decode_tagged_value",
    "encode_tagged",
    "is_tagged",
]
