"""The web endpoint stays optional: importing the library never imports Starlette or uvicorn."""

import subprocess
import sys


def test_import_sync_pipeline_does_not_import_the_web_stack():
    code = (
        "import sys, sync_pipeline, sync_pipeline.events; "
        "print(sorted(m for m in ('starlette', 'sse_starlette', 'uvicorn', "
        "'sync_pipeline.web') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
    web = subprocess.run(
        [sys.executable, "-c", code.replace("sync_pipeline.events;", "sync_pipeline.web;")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "starlette" in web.stdout  # the check can see the import when it happens
