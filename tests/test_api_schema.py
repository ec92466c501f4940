"""Schemathesis against the live test server's own schema: every operation, with an analyst's
token, a police analyst's (who may read incident records) and anonymously. No answer may be
a server error, and every answer must be one the schema declares (status, content type,
headers, body). The examples are bounded so the run stays about a minute."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gvrs.accounts.tokens import create_token
from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.public.models import PublicDashboard

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
EXAMPLES = 5  # per operation and phase: with the coverage phase, every parameter's edges


def schemathesis(base: str, config: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--seed",
        "28",
        "--no-shrink",
        "--request-timeout",
        "60",
        *extra,
    ]
    # Run beside its config: schemathesis keeps a cache folder in its working directory.
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=config.parent)


@pytest.mark.slow
def test_no_server_error_and_no_answer_outside_the_schema(
    live_server, people, city, tmp_path, settings
):
    settings.GVRS_API_RATE = "1000000/minute"
    place = Jurisdiction.objects.get(slug=city)
    PublicDashboard.objects.create(jurisdiction=place, enabled=True, metric="shootings")
    # Real values for the path parameters, so every operation answers from real data as
    # well as from the slugs and ids schemathesis makes up.
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        f'"path.slug" = "{city}"\n'
        f'"path.pk" = {Incident.objects.order_by("pk").first().pk}\n'
        f'"query.jurisdiction" = "{city}"\n'
    )
    runs = {
        "analyst": create_token(people["analyst"], "schemathesis", 7).secret,
        "police": create_token(people["police"], "schemathesis", 7).secret,
        "anonymous": None,
    }
    for who, secret in runs.items():
        # Anonymously, the public figures only: every other operation answers 401 before it
        # reads a parameter (tests/test_api.py), so fuzzing its parameters again finds nothing.
        extra = (
            ("--header", f"Authorization: Bearer {secret}")
            if secret
            else ("--include-path-regex", "/public")
        )
        result = schemathesis(live_server.url, config, *extra)
        assert result.returncode == 0, (
            f"as {who}:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
        )
        if secret:
            assert "14 selected" in result.stdout or "/api/v1/incidents" in result.stdout, who
