"""TypeScript types generated from the live ``/openapi.json`` with ``openapi-typescript`` type-check
a small front-end client (``ts/client.ts``) with ``tsc --noEmit``: the client submits a spec
with only the fields a user chose, switches over every job status (and a misspelled one must
not compile), and reads a refusal's ``code`` and ``errors[0].fix`` from the one ``Problem``.

The npm packages are pinned in ``ts/package.json`` and ``ts/package-lock.json``; scripts/test
installs them with ``npm ci``. Without node and npm (or the installed packages) the test skips,
or fails where DESCENT_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.contract.conftest import Secured, tool

pytestmark = pytest.mark.integration

TS = Path(__file__).parent / "ts"
BIN = TS / "node_modules" / ".bin"


def installed(program: str) -> Path:
    path = BIN / program
    if not path.exists():
        missing(f"{path} is missing: run `npm ci` in {TS} (scripts/test does)")
    return path


def test_a_front_end_client_type_checks_against_the_generated_types(
    secured_api: Secured, tmp_path: Path
):
    tool("node", reason="the TypeScript client test needs Node.js and npm")
    generate, tsc = installed("openapi-typescript"), installed("tsc")
    (tmp_path / "openapi.json").write_bytes(secured_api.service.client.get("/openapi.json").content)
    run = subprocess.run(
        [str(generate), "openapi.json", "--output", "api.d.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, f"openapi-typescript failed:\n{run.stdout}{run.stderr}"
    config = {
        "extends": str(TS / "tsconfig.json"),
        "compilerOptions": {"paths": {"descent-api": [str(tmp_path / "api.d.ts")]}},
        "files": [str(TS / "client.ts")],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    check = subprocess.run(
        [str(tsc), "--noEmit", "--pretty", "false", "-p", str(tmp_path / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, f"tsc --noEmit failed:\n{check.stdout}{check.stderr}"
