"""The weekly-brief GitHub Actions workflow: schema-valid, scheduled, fails on stale data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "weekly-brief.yml"


def _check_jsonschema() -> str | None:
    local = Path(sys.executable).parent / "check-jsonschema"
    return str(local) if local.exists() else shutil.which("check-jsonschema")


@pytest.fixture(scope="module")
def workflow() -> dict:
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean True
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_workflow_is_valid_under_the_github_schema():
    exe = _check_jsonschema()
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    proc = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_scheduled_off_the_hour_and_dispatchable(workflow):
    triggers = workflow["on"]
    crons = [c["cron"] for c in triggers["schedule"]]
    assert crons == ["17 6 * * 1"]
    minute = crons[0].split()[0]
    assert minute not in ("0", "00", "*"), "top-of-the-hour schedules are delayed or dropped"
    assert "workflow_dispatch" in triggers


def test_fetch_gets_the_keys_from_secrets(workflow):
    fetch = [s for s in _steps(workflow) if "oilimpact fetch" in s.get("run", "")]
    assert len(fetch) == 1
    env = fetch[0]["env"]
    assert env["EIA_API_KEY"] == "${{ secrets.EIA_API_KEY }}"
    assert env["FRED_API_KEY"] == "${{ secrets.FRED_API_KEY }}"


def test_validates_and_fails_on_stale_data_before_publishing(workflow):
    build = workflow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in build]
    i_validate = next(i for i, r in enumerate(runs) if "oilimpact validate" in r)
    i_brief = next(i for i, r in enumerate(runs) if "oilimpact brief" in r)
    assert "--fail-on-stale" in runs[i_brief]
    assert "continue-on-error" not in build[i_brief] and "|| true" not in runs[i_brief]
    uses = [s.get("uses", "") for s in build]
    i_upload = next(i for i, u in enumerate(uses) if u.startswith("actions/upload-artifact@v4"))
    i_pages = next(i for i, u in enumerate(uses) if u.startswith("actions/upload-pages-artifact@"))
    assert i_validate < i_brief < i_upload < i_pages
    assert build[i_upload]["with"]["path"].rstrip("/") == "reports"
    assert build[i_upload]["with"]["if-no-files-found"] == "error"


def test_deploys_to_pages_with_the_needed_permissions(workflow):
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    assert any(s.get("uses", "").startswith("actions/configure-pages@") for s in _steps(workflow))
    assert workflow["permissions"] == {"contents": "read"}


def test_no_secret_or_user_input_is_interpolated_into_a_script(workflow):
    for step in _steps(workflow):
        run = step.get("run", "")
        assert "${{ secrets." not in run and "${{ inputs." not in run, step.get("name")
