"""The README's library example runs as written (docs are part of the feature)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.integration
def test_the_library_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks()[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "created=2" in out
    assert "\n1\n" in out  # again.unchanged
    assert "'email': 'bob@x.io'" in out  # bob is missing after batch 2


@pytest.mark.integration
def test_the_writer_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    [block] = [b for b in python_blocks() if "Writer" in b and "create_app" not in b]
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.split() == ["None", "check", "0"]
