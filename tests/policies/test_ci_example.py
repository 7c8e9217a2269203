"""The README's CI job for a team's stack: valid, and its check command passes the consumer stack."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CONSUMER = REPO / "tests" / "distribution" / "consumer"


def readme_job() -> dict:
    readme = (REPO / "README.md").read_text()
    [block] = re.findall(r"```yaml\n(# \.github/workflows/policies\.yml\n.*?)```", readme, flags=re.S)
    return yaml.safe_load(block)


def test_the_job_installs_the_policies_extra_and_runs_the_check() -> None:
    steps = readme_job()["jobs"]["check"]["steps"]
    install, check = (step["run"] for step in steps if "run" in step)

    assert shlex.split(install)[:2] == ["pip", "install"]
    assert shlex.split(install)[2].startswith("approvals[policies] @ git+https://")
    assert shlex.split(check)[:4] == ["python", "-m", "approvals.policies", "check"]


def test_the_job_s_check_passes_a_clean_stack_and_fails_one_with_a_mandatory_violation(
    tmp_path: Path,
) -> None:
    check = next(
        step["run"]
        for step in readme_job()["jobs"]["check"]["steps"]
        if "policies check" in step.get("run", "")
    )
    argv = [sys.executable, *shlex.split(check)[1:]]
    stack = tmp_path / "stack"
    shutil.copytree(CONSUMER, stack, ignore=shutil.ignore_patterns("__pycache__"))

    clean = subprocess.run(argv, cwd=stack, capture_output=True, text=True, check=False)
    main = stack / "__main__.py"
    main.write_text(
        main.read_text() + '\nimport pulumi_gcp as gcp\n\ngcp.storage.Bucket("exports", location="EU")\n'
    )
    broken = subprocess.run(argv, cwd=stack, capture_output=True, text=True, check=False)

    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "MANDATORY bucket-access-hardened" in broken.stdout
