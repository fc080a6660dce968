"""Schemathesis against /api/v1/openapi.json: every documented operation, every built-in check
(the equivalent of `schemathesis run --checks all`), through the WSGI app.

The operations are read from the document at test time, so endpoints added later are covered
without touching this file."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine.events import EngineFinished, FatalError, NonFatalError, ScenarioFinished

from server.db.session import Database
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.instances import build_instance
from tests.support.live_server import live_server
from tests.support.staff_api import StaffClient, make_member, make_workplace, staff  # noqa: F401

# Operations and checks that fail for a known reason (an entry is "METHOD path: check"); any
# other failure fails the test.
KNOWN_FAILURES: set[str] = {
    # A corrected answer must fit its question (a date, a number, a choice of that form version):
    # the form decides, which a schema shared by every question cannot say (422 otherwise).
    "POST /api/v1/submissions/{instance_id}/unfit/{unfit_id}/correct: positive_data_acceptance",
}
MAX_EXAMPLES = 15  # per operation and phase; the whole run stays well under two minutes


def run_schemathesis(app: Flask, token: str) -> tuple[list[str], int]:
    """Failures (one line each) and the number of operations tested."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": 11,
            "headers": {"Authorization": f"Bearer {token}"},
            # No example database: the same seed gives the same run everywhere.
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "checks": {
                "enabled": True,
                # A generated If-Match never names the record's current version: 412 Precondition
                # Failed is the answer HTTP requires (RFC 9110 13.1.1), as 409 is for a conflict.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
                },
                # RFC 6585: a change sent without its required If-Match is 428 Precondition Required.
                "missing_required_header": {
                    "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]
                },
            },
            "phases": {"stateful": {"enabled": False}},
            "suppress-health-check": ["all"],
        }
    )
    with live_server(app) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", config=config)
        return _failures(schema)


def _describe(event: ScenarioFinished, case_id: str, check: Any) -> str:
    case = event.recorder.cases[case_id].value
    interaction = event.recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    answer = f"{response.status_code} {response.content[:200]!r}" if response is not None else "-"
    return (
        f"{event.label}: {check.name}: {check.failure_info.failure.title} "
        f"({case.method} {case.formatted_path} {case.query or ''} {case.headers or ''} "
        f"{case.body if case.body is not None else ''} -> {answer})"
    )


def _failures(schema: Any) -> tuple[list[str], int]:
    failures: list[str] = []
    labels: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, ScenarioFinished) and event.label:
            labels.add(event.label)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failures.append(_describe(event, case_id, check))
        elif isinstance(event, NonFatalError):
            failures.append(f"{event.label}: error: {type(event.value).__name__}: {event.value}"[:300])
        elif isinstance(event, FatalError):
            failures.append(f"fatal: {type(event.exception).__name__}: {event.exception}")
        elif isinstance(event, EngineFinished):
            break
    return sorted(set(failures)), len(labels)


def test_every_documented_operation_passes_every_schemathesis_check(
    app: Flask, db: Database, staff: dict[str, StaffClient], published_forms: Any,  # noqa: F811
    pe: CollectClient,  # noqa: F811
) -> None:
    entry = next(e for e in pe.form_list() if e.form_id == "workplace_visit")
    media = {m.filename: pe.download_media(m) for m in pe.manifest(entry)}
    xml = build_instance(pe.download_form(entry), media=media, answers={"note": "a.jpg"})
    assert pe.submit(xml, {"a.jpg": b"photo"})[-1].status_code == 201  # a real, merged submission
    with db.transaction() as s:
        make_member(s, "M-0001")
        make_workplace(s, "W-0001")
    operations = len(app.test_client().get("/api/v1/openapi.json").get_json()["paths"])
    found, tested = run_schemathesis(app, staff["child_protection"].token)
    failures = [f for f in found if ": ".join(f.split(": ")[:2]) not in KNOWN_FAILURES]
    assert failures == [], "\n".join(f[:700] for f in failures)
    assert tested >= operations  # every path was exercised, including ones added later
