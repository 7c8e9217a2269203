"""Another team's stack pip-installs this package and uses the components."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CONSUMER = """
import pulumi
from approvals import ApprovalPlatform, ApprovalPlatformArgs, ApprovalWorkflow, ApprovalWorkflowArgs

platform = ApprovalPlatform("team", ApprovalPlatformArgs(region="us-central1"))
deploys = ApprovalWorkflow(
    "deploys",
    ApprovalWorkflowArgs(
        platform=platform,
        template="deploy_approval",
        approvers=["release@example.com"],
        params={"DEPLOY_WEBHOOK_URL": "https://ci.example.com/deploy"},
    ),
)
pulumi.export("site_url", platform.site_url)
pulumi.export("workflow_name", deploys.workflow_name)
"""

REPORT = """
import json, sys
from pathlib import Path
import approvals
from approvals.testing import capture_program

graph = capture_program(Path("__main__.py"), stack="dev")
archives = [sorted(r.inputs["source"].assets) for r in graph.of_type("gcp:storage/bucketObject:BucketObject")]
workflows = [r.inputs["sourceContents"] for r in graph.of_type("gcp:workflows/workflow:Workflow")]
print(json.dumps({
    "components_file": approvals.__file__,
    "outputs": graph.outputs,
    "archives": archives,
    "workflows": workflows,
}))
"""


def test_a_consumer_stack_installs_and_uses_the_components(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "__pycache__", "*.egg-info", "build", "tests", "node_modules"
        ),
    )
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
    )
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "__main__.py").write_text(textwrap.dedent(CONSUMER))
    (consumer / "Pulumi.yaml").write_text("name: team-approvals\nruntime: python\n")
    (consumer / "Pulumi.dev.yaml").write_text("config:\n  gcp:project: team-project-dev\n")

    result = subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=consumer,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["components_file"].startswith(str(site)), "must use the installed copy, not the checkout"
    assert report["outputs"]["site_url"] == "https://team-project-dev-team.web.app"
    assert (
        report["outputs"]["workflow_name"]
        == "projects/team-project-dev/locations/us-central1/workflows/deploys"
    )
    assert len(report["archives"]) == 7  # start, decide, cancel, delegate, link, notify, web
    for archive in report["archives"]:
        assert "main.py" in archive and "requirements.txt" in archive
        assert not any("__pycache__" in name for name in archive)
    # The built page travels in the package: the web function's archive serves it.
    pages = [a for a in report["archives"] if "static/index.html" in a and "static/app.js" in a]
    assert len(pages) == 1
    (workflow,) = report["workflows"]
    assert "request_approval" in workflow
