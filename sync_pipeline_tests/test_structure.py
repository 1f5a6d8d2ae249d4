"""The house's size limits (issue 9): no module over 300 lines, no function over 50, so every
module reads top-down in a few screens. Counted on the source, as a reviewer would."""

import ast
from pathlib import Path

import sync_pipeline

PACKAGE = Path(sync_pipeline.__file__).resolve().parent
MODULE_LINES, FUNCTION_LINES = 300, 50


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_scan_sees_the_package() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert {"engine/pipeline.py", "defs/assets.py", "values/kinds.py"} <= names


def test_no_module_is_over_300_lines() -> None:
    long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_50_lines() -> None:
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                n = node.end_lineno - first + 1
                if n > FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE).as_posix()}:{node.name}"] = n
    assert long == {}


def test_helper_column_names_are_spelled_only_in_db_labels() -> None:
    """The helper columns that travel beside a table's own (`__e`, `__pk_`, `__expr_`, ...) are
    named in db/labels.py; every other module of the data path takes them from there (dunders
    are not such names)."""
    spelled = {}
    for path in _modules():
        name = path.relative_to(PACKAGE).as_posix()
        if name == "db/labels.py" or name.split("/")[0] not in {
            "db",
            "engine",
            "events",
            "senders",
            "values",
        }:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) else None
            helper = isinstance(text, str) and text.startswith("__") and not text.endswith("__")
            if helper or text == "__":
                spelled[f"{name}:{node.lineno}"] = text
    assert spelled == {}
