"""The examples in docs/senders.md run as written, in order, in an empty directory."""

import os
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "senders.md"


@pytest.mark.integration
def test_docs_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_example"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{DOC.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message says which block broke
            raise AssertionError(f"docs/senders.md block {i} failed: {exc!r}\n{block}") from exc
    out = capsys.readouterr().out
    assert "line 3, field 'born'" in out
    assert "you can only write your own todos" in out
    assert os.path.exists(tmp_path / "shop.db")
