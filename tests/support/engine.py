"""Fill a form in ODK's web form engine (@getodk/xforms-engine, tests/engine/fill.mjs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ENGINE_DIR = Path(__file__).resolve().parents[1] / "engine"
ENGINE_READY = (
    shutil.which("node") is not None and (ENGINE_DIR / "node_modules" / "@getodk" / "xforms-engine").is_dir()
)
# bin/test installs the engine; CI sets SAHAKUM_REQUIRE_ENGINE=1 so these never silently skip.
needs_engine = pytest.mark.skipif(
    not ENGINE_READY and os.environ.get("SAHAKUM_REQUIRE_ENGINE") != "1",
    reason="run `npm ci` in tests/engine (needs node 20)",
)


def fill(form_xml: bytes, answers: dict[str, Any], media_dir: Path, work: Path) -> bytes:
    """The submission XML the web engine serialises after setting `answers` (in order)."""
    work.mkdir(parents=True, exist_ok=True)
    form = work / "form.xml"
    form.write_bytes(form_xml)
    answers_file = work / "answers.json"
    answers_file.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        ["node", str(ENGINE_DIR / "fill.mjs"), str(form), str(answers_file), str(media_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.encode("utf-8")
