"""The front door (lookup pages + CDS Hooks) as a real uvicorn server process for the tests:
``python -m axilla_kg.web --port 0`` from this checkout, stopped when the test module ends."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from serving_helpers import stop

from conftest import cli_env


@contextmanager
def front_door() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "axilla_kg.web", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/topics", line)
        if not match:
            stop(process)
            err = process.stderr.read() if process.stderr else ""
            pytest.fail(f"the front door did not start: {line!r} {err}")
        yield match.group(1)
    finally:
        stop(process)


def fetch(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def post_json(url: str, body: Any) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _, payload = fetch(url, raw, {"Content-Type": "application/json"})
    return status, json.loads(payload)
