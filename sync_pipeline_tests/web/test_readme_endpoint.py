"""The README's endpoint example serves, takes its curl body and streams the commit back."""

import json
import re
from pathlib import Path

import httpx
import pytest

from sync_pipeline_tests.web.serve import served, sse_messages

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.integration
def test_the_endpoint_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = README.read_text()
    [block] = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "create_app" in b]
    [body] = re.findall(r"/mutations -d \\\n  '(.*?)'\n", text)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    headers = {"Authorization": "Bearer secret-token"}
    with served(scope["app"]) as url:
        posted = httpx.post(f"{url}/mutations", content=body, headers=headers)
        refused = httpx.post(f"{url}/mutations", content=body, headers={})
        with httpx.stream("GET", f"{url}/events?table=todos", headers=headers) as response:
            [message] = sse_messages(response, 1)
    assert posted.json() == {"txid": None, "txid32": None} and refused.status_code == 401
    assert message["id"] == message["data"]["events"][0]["position"]
    assert message["data"]["events"][0]["changes"] == json.loads(body)[0]["modified"]
