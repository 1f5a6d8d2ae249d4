"""Record readers per text format, each yielding (line number, raw record)."""

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from sync_pipeline.senders.errors import BadValueError

Row = tuple[int, dict[str, Any]]

# Python's csv module refuses fields over 131,072 characters by default; a valid file may hold
# any length (the limit is process-wide, so it is raised, never lowered). 2**31 - 1 fits a C long
# everywhere.
_CSV_FIELD_LIMIT = 2**31 - 1


def csv_records(handle: IO[str], source: str, delimiter: str) -> Iterator[Row]:
    """CSV with a header row; a row with too many or too few fields is an error."""
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        if len(set(header)) != len(header) or "" in header:
            raise BadValueError(source, 1, None, f"header has empty or repeated names: {header}")
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise BadValueError(
                    source, reader.line_num, None, f"{len(row)} fields, header has {len(header)}"
                )
            yield reader.line_num, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise BadValueError(source, reader.line_num, None, f"malformed CSV: {exc}") from None


def _object(value: Any, source: str, line: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadValueError(
            source, line, None, f"expected a JSON object, got {type(value).__name__}"
        )
    return value


def ndjson_records(handle: IO[str], source: str) -> Iterator[Row]:
    """One JSON object per line; blank lines are skipped."""
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise BadValueError(source, line, None, f"malformed JSON: {exc}") from None
        yield line, _object(value, source, line)


def json_array_records(text: str, source: str) -> Iterator[Row]:
    """A JSON array of objects; each object is reported with the line it starts on."""
    decoder = json.JSONDecoder()
    pos, line, counted = _skip(text, 0), 1, 0

    def line_at(p: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, p)
        counted = p
        return line

    if pos >= len(text) or text[pos] != "[":
        raise BadValueError(source, line_at(pos), None, "expected a JSON array of objects")
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        try:
            value, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError) as exc:
            raise BadValueError(source, line_at(pos), None, f"malformed JSON: {exc}") from None
        yield line_at(pos), _object(value, source, line)
        pos = _skip(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif pos >= len(text) or text[pos] != "]":
            raise BadValueError(source, line_at(pos), None, "malformed JSON: expected ',' or ']'")
    if pos >= len(text):
        raise BadValueError(source, line_at(pos), None, "malformed JSON: unterminated array")
    if _skip(text, pos + 1) != len(text):
        raise BadValueError(source, line_at(pos), None, "malformed JSON: data after the array")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
