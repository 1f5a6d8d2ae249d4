"""What `import sync_pipeline` offers: every error type, PreparedImport, WriteResult; no Dagster."""

import inspect
import subprocess
import sys

import sync_pipeline
from sync_pipeline import errors


def test_every_error_type_of_errors_py_is_exported():
    defined = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, errors.SyncError)
    }
    assert "SyncConfigError" in defined and "StaleDiffError" in defined
    assert defined <= set(sync_pipeline.__all__)
    assert all(getattr(sync_pipeline, name) is getattr(errors, name) for name in defined)


def test_the_builder_and_the_write_result_are_exported():
    from sync_pipeline.engine.api import PreparedImport
    from sync_pipeline.engine.mutations.writer import WriteResult

    assert sync_pipeline.PreparedImport is PreparedImport
    assert sync_pipeline.WriteResult is WriteResult


def test_the_new_exports_do_not_import_dagster():
    code = (
        "import sys; from sync_pipeline import PreparedImport, SyncConfigError, WriteResult; "
        "print('dagster' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
