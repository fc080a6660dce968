"""What a phone downloads and how fast ODK's web engine opens each form with it (issue 9 item 1).

    .venv/bin/python bench/field_media.py [--runs 3] [--quick]

For each account (a village account of one commune, a peer educator of two communes of
province 18) and each of its forms: the media files of the manifest as this server serves them
to that account (bytes per file and total), and the time for ODK's web form engine
(tests/engine/fill.mjs, @getodk/xforms-engine) to load the form with those files, fill it and
serialise the submission (median of --runs), as wall time and as the engine process's CPU
time (user + system, from getrusage of the child: independent of other load on the machine,
so it is the figure to compare on a shared machine). ``--quick`` is one run. Runs on a
temporary SQLite database with the committed forms; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server import create_app  # noqa: E402
from server.accounts.collectors import create_collector  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.session import Database  # noqa: E402
from server.xforms.compile import compile_xlsform  # noqa: E402
from server.xforms.publish import default_form_paths, publish_compiled  # noqa: E402
from tests.support.collect import CollectClient  # noqa: E402

ENGINE = ROOT / "tests" / "engine" / "fill.mjs"
ACCOUNTS = {"V18010101": ("village", "180101"), "PE07": ("peer_educator", "180101 180102")}
ANSWERS = {
    "village_data": {
        "/data/collector": "V18010101", "/data/reporter_role": "village_chief",
        "/data/period": "2026-10-01", "/data/commune": "180101", "/data/village": "18010101",
        "/data/n_left": 0, "/data/n_returned": 0, "/data/n_children_working_away": 0,
        "/data/n_venues": 0, "/data/n_new_venues": 0, "/data/any_concern": "no",
    },
    "workplace_visit": {
        "/data/collector": "PE07", "/data/workplace_in_list": "no",
        "/data/wp_new_name_latin": "Star KTV", "/data/wp_new_type": "karaoke",
        "/data/wp_commune": "180101", "/data/wp_village": "18010101",
        "/data/wp_landmark": "market", "/data/visit_type": "routine",
        "/data/access": "inside_freely", "/data/n_workers_est": 12, "/data/n_met": 5,
        "/data/u18_suspected": "no", "/data/fl_seen": ["none"], "/data/locked_in": "no",
        "/data/forced_drinking": "no", "/data/shift_known": "dont_know",
        "/data/days_off": "dont_know", "/data/pay_type": "salary", "/data/pe_safety": "safe",
    },
    "member_intake": {
        "/data/collector": "PE07", "/data/consent": "yes",
        "/data/g_main/consent_referral": "yes", "/data/g_main/dob_known": "yes",
        "/data/g_main/dob": "2000-05-17", "/data/g_main/age_source": "id_card",
        "/data/g_main/g_identity/member_code": "7K3Q9M-H",
        "/data/g_main/g_identity/given_name_km": "សុខា",
        "/data/g_main/workplace_in_list": "no", "/data/g_main/workplace_new_name": "Star KTV",
        "/data/g_main/workplace_new_type": "karaoke",
        "/data/g_main/workplace_new_commune": "180101",
        "/data/g_main/workplace_new_landmark": "market",
        "/data/g_main/g_adult/sector": "karaoke", "/data/g_main/g_adult/recruited_via": "friend",
        "/data/g_main/g_adult/origin_province": "14", "/data/g_main/g_adult/origin_district": "1404",
        "/data/g_main/g_adult/origin_commune": "140401",
        "/data/g_main/g_adult/origin_village_text": "Phum Muoy", "/data/g_main/g_adult/id_card": "yes",
        "/data/g_main/g_adult/fl_screen": ["none"], "/data/g_main/g_adult/health_now": "no",
        "/data/g_main/g_adult/legal_now": "no",
    },
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: Node, jsdom and the engine module loading, nothing else: part of every figure below, paid
#: once per app start on a phone, not per form.
_IMPORT_ONLY = """
import { JSDOM } from 'jsdom';
const { window } = new JSDOM('');
for (const n of ['DOMParser', 'XMLSerializer', 'Node', 'Document', 'Element', 'document'])
  globalThis[n] ??= window[n];
globalThis.__dirname ??= process.cwd();
await import('@getodk/xforms-engine');
"""


def engine_start_cpu(runs: int) -> float:
    """Median CPU seconds of starting Node and loading the engine without any form."""
    cpu = []
    for _ in range(runs):
        before = _children_cpu()
        subprocess.run(["node", "--input-type=module", "-e", _IMPORT_ONLY], cwd=ENGINE.parent,
                       capture_output=True, check=True)
        cpu.append(_children_cpu() - before)
    return statistics.median(cpu)


def engine_seconds(
    form: bytes, answers: dict, media: Path, work: Path, runs: int
) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of the engine opening, filling and
    serialising the form."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "form.xml").write_bytes(form)
    (work / "answers.json").write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    times, cpu = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), _children_cpu()
        result = subprocess.run(["node", str(ENGINE), str(work / "form.xml"),
                                 str(work / "answers.json"), str(media)],
                                capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - cpu_start)
        if result.returncode != 0:
            raise SystemExit(f"engine failed: {result.stderr[:500]}")
    return statistics.median(times), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run per form")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    tmp = Path(tempfile.mkdtemp(prefix="field-media-"))
    url = f"sqlite:///{tmp / 'db.sqlite3'}"
    migrate.upgrade(url)
    db = Database(url)
    tokens = {}
    with db.transaction() as s:
        for path in default_form_paths():
            publish_compiled(s, compile_xlsform(path), ROOT / "forms" / "media")
        for name, (role, communes) in ACCOUNTS.items():
            tokens[name] = create_collector(s, name, role, communes)[1]
    app = create_app(Settings(database_url=url, data_dir=tmp / "data", secret_key="x" * 32,
                              base_url=None, max_submission_bytes=10_000_000,
                              instance_dir=tmp / "instance"), {"TESTING": True})
    start_cpu = engine_start_cpu(args.runs)
    print(f"Engine start without a form (Node + jsdom + engine import): {start_cpu:.2f} s CPU; "
          "'form CPU' is the rest.\n")
    print("| account | form | media files (bytes) | total | engine open+fill (wall) | (CPU) "
          "| form CPU |")
    print("|---|---|---|---|---|---|---|")
    for name, token in tokens.items():
        client = CollectClient(app.test_client(), f"http://localhost/v1/key/{token}")
        for entry in client.form_list():
            media_dir = tmp / name / entry.form_id
            media_dir.mkdir(parents=True)
            sizes = {}
            for media in client.manifest(entry):
                data = client.download_media(media)
                (media_dir / media.filename).write_bytes(data)
                sizes[media.filename] = len(data)
            form = client.download_form(entry)
            seconds, cpu = engine_seconds(form, ANSWERS[entry.form_id], media_dir, tmp / "work",
                                     args.runs)
            listed = ", ".join(f"{k} {v:,}" for k, v in sorted(sizes.items(), key=lambda x: -x[1])
                               if not k.endswith(".png"))
            png = sum(v for k, v in sizes.items() if k.endswith(".png"))
            if png:
                listed += f", {sum(k.endswith('.png') for k in sizes)} pictograms {png:,}"
            print(f"| {name} | {entry.form_id} | {listed} | {sum(sizes.values()):,} | "
                  f"{seconds:.2f} s | {cpu:.2f} s | {max(cpu - start_cpu, 0):.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
