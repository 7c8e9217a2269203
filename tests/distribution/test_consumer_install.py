"""Another team installs approvals the way it really would, and its own stack uses it.

From a clean `git archive` of HEAD, the sdist and the wheel are built (which builds the
page); each goes into a fresh virtualenv outside the repository with no Node.js on PATH,
and a `git+file://` URL of a bare clone goes into a third, with Node. Each then runs the
payments team's stack (tests/distribution/consumer: its own `components` package, its own
workflow YAML) under mocks, and the policy check on it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONSUMER = Path(__file__).resolve().parent / "consumer"
NO_NODE_MESSAGE = "needs Node.js 20+ and npm on PATH"
# Workflows a consumer runs with `python -m approvals.emulator run`.
HELLO = 'main:\n  params: [args]\n  steps:\n    - greet:\n        return: ${"Hello " + args.name}\n'
REGEX = '- match:\n    return: ${text.match_regex("a1", "[0-9]")}\n'

REPORT = """
import json
from pathlib import Path

import approvals
from approvals.testing import capture_program

graph = capture_program(Path("__main__.py"), stack="dev")
objects = graph.of_type("gcp:storage/bucketObject:BucketObject")
web = next(r for r in objects if "approvals-web-" in r.inputs["name"])
workflows = graph.of_type("gcp:workflows/workflow:Workflow")
print(json.dumps({
    "approvals": approvals.__file__,
    "types": sorted({r.type for r in graph.resources}),
    "workflows": {r.name: r.inputs["sourceContents"] for r in workflows},
    "archives": {r.name.removesuffix("-source"): sorted(r.inputs["source"].assets) for r in objects},
    "page": web.inputs["source"].assets["static/index.html"].path,
    "labels": graph.named("approvals-sources", "gcp:storage/bucket:Bucket").inputs["labels"],
}))
"""


def run(*args: str | Path, cwd: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """A command as a user types it; `path` replaces PATH (to take Node away)."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("consumer-install")


def clean_tree(work: Path, name: str) -> Path:
    """HEAD as `pip install git+URL` would fetch it: tracked files only, no web/dist.

    Each use gets its own: building from a tree builds the page into it.
    """
    tree = work / f"tree-{name}"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    assert not (tree / "web" / "dist").exists()
    return tree


def build_release(work: Path) -> dict[str, Path]:
    """The sdist, then the wheel built from it, as `python -m build` makes a release."""
    out = work / "dist"
    ok(run(sys.executable, "-m", "build", "--outdir", out, clean_tree(work, "release"), cwd=work))
    [sdist] = out.glob("approvals-*.tar.gz")
    [wheel] = out.glob("approvals-*.whl")
    return {"sdist": sdist, "wheel": wheel}


def install(work: Path, name: str, requirement: str, *, with_node: bool) -> Path:
    """A fresh virtualenv outside the repository with `requirement` installed; its python.

    The venv gets no pip of its own: this pip installs into it (`pip --python`), which
    saves bootstrapping one per venv, and is recent enough for `name @ git+file://`.
    """
    home = work / f"venv-{name}"
    venv.create(home, with_pip=False)
    python = home / "bin" / "python"
    # No Node: PATH holds the virtualenv's own tools and git, nothing else.
    tools = work / f"tools-{name}"
    tools.mkdir()
    (tools / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    path = None if with_node else f"{home / 'bin'}:{tools}"
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile")
    ok(run(*pip, requirement, cwd=work, path=path))
    return python


@pytest.fixture(scope="module")
def installed(work: Path) -> dict[str, Path]:
    """kind -> the python of a fresh venv holding it: the wheel and the sdist (no Node), and a
    git URL of a bare clone (with Node, which builds the page). Installed side by side."""
    bare = work / "approvals.git"
    ok(run("git", "clone", "--quiet", "--bare", REPO, bare, cwd=work))

    def from_release(kind: str, release: dict[str, Path]) -> Path:
        return install(work, kind, f"approvals[policies] @ {release[kind].as_uri()}", with_node=False)

    with ThreadPoolExecutor(max_workers=3) as pool:
        git = pool.submit(install, work, "git", f"approvals[policies] @ git+{bare.as_uri()}", with_node=True)
        release = build_release(work)
        kinds = {kind: pool.submit(from_release, kind, release) for kind in ("wheel", "sdist")}
        return {"git": git.result(), **{kind: future.result() for kind, future in kinds.items()}}


def consumer_stack(work: Path, name: str) -> Path:
    stack = work / f"stack-{name}"
    shutil.copytree(CONSUMER, stack, ignore=shutil.ignore_patterns("__pycache__"))
    return stack


def tracked(folder: str) -> list[str]:
    """The repository's files in `folder`, relative to it."""
    listed = ok(run("git", "ls-files", folder, cwd=REPO)).split()
    return [name.removeprefix(f"{folder}/") for name in listed]


def expected_archive(role: str, site: Path) -> set[str]:
    """What a function's archive must hold: its folder, common/, and for web the built page."""
    files = {*tracked(f"functions/{role}"), *(f"common/{name}" for name in tracked("functions/common"))}
    if role == "web":
        files |= {f"static/{page.name}" for page in (site / "approvals" / "web" / "dist").iterdir()}
    return files


def check_consumer(python: Path, stack: Path, site: Path) -> None:
    # What a default `pip install` does (these installs skip it for speed): byte-compile
    # the function sources, which the archives must then leave out.
    ok(run(python, "-m", "compileall", "-q", site / "approvals" / "functions", cwd=stack))
    assert (site / "approvals" / "functions" / "common" / "__pycache__").is_dir()

    report = json.loads(ok(run(python, "-c", REPORT, cwd=stack)))

    assert report["approvals"].startswith(str(site)), "the installed package, not a checkout"
    assert {"approvals:index:ApprovalPlatform", "approvals:index:ApprovalWorkflow"} <= set(report["types"])
    # The platform's own delegation timer is packaged beside the templates.
    assert sorted(report["workflows"]) == ["approvals-delegation-timer", "deploys", "refunds"]
    assert "sys.sleep_until" in report["workflows"]["approvals-delegation-timer"]
    assert "ask_finance" in report["workflows"]["refunds"]
    assert "request_approval" in report["workflows"]["refunds"], (
        "the step library merged into the team's YAML"
    )
    assert report["labels"]["team"] == "payments", "the team's own components package was imported"
    roles = {"start", "decide", "cancel", "delegate", "link", "status", "notify", "web"}
    assert set(report["archives"]) == {f"approvals-{role}" for role in roles}
    for role in roles:
        assert set(report["archives"][f"approvals-{role}"]) == expected_archive(role, site), role
    assert {"static/index.html", "static/app.js"} <= set(report["archives"]["approvals-web"])
    assert Path(report["page"]).is_file() and Path(report["page"]).is_relative_to(site)

    policy = run(python, "-m", "approvals.policies", "check", "__main__.py", "--stack", "dev", cwd=stack)
    assert policy.returncode == 0, policy.stdout + policy.stderr
    assert "0 mandatory" in policy.stdout.splitlines()[-1]


def site_of(python: Path) -> Path:
    return Path(
        ok(
            run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=python.parent)
        ).strip()
    )


@pytest.mark.parametrize("kind", ["wheel", "sdist", "git"])
def test_an_install_serves_a_consumer_stack_and_its_policy_check(
    kind: str, work: Path, installed: dict[str, Path]
) -> None:
    python = installed[kind]

    check_consumer(python, consumer_stack(work, kind), site_of(python))


def test_the_wheel_runs_a_workflow_from_a_folder_of_the_consumers(
    installed: dict[str, Path], work: Path
) -> None:
    """`python -m approvals.emulator run`, as the README tells a consumer; this install has no
    `emulator` extra, so a regular expression says what to install."""
    python, folder = installed["wheel"], work / "workflows"
    folder.mkdir()
    (folder / "hello.yaml").write_text(HELLO)
    (folder / "regex.yaml").write_text(REGEX)
    emulator = (python, "-m", "approvals.emulator")

    hello = run(*emulator, "run", "hello.yaml", "--data", '{"name": "Ada"}', cwd=folder)
    usage = run(*emulator, "run", "--help", cwd=folder)
    regex = run(*emulator, "run", "regex.yaml", cwd=folder)

    assert (hello.returncode, hello.stdout) == (0, '"Hello Ada"\n'), hello.stderr
    assert usage.stdout.startswith("usage: python -m approvals.emulator run "), usage.stderr
    assert regex.returncode == 1
    assert 'pip install "approvals[emulator]"' in json.loads(regex.stderr.splitlines()[-1])["message"]
    assert "Traceback" not in hello.stderr + usage.stderr + regex.stderr


def test_building_from_source_without_node_says_what_to_install(work: Path) -> None:
    tools = work / "tools-build"
    tools.mkdir()
    result = run(
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--outdir",
        work / "no-node",
        clean_tree(work, "no-node"),
        cwd=work,
        path=f"{Path(sys.executable).parent}:{tools}",
    )

    assert result.returncode != 0
    assert NO_NODE_MESSAGE in result.stdout + result.stderr


def test_the_wheel_installs_one_import_root(installed: dict[str, Path], work: Path) -> None:
    [wheel] = (work / "dist").glob("approvals-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/", 1)[0] for name in archive.namelist()}

    assert top == {"approvals", re.sub(r"-py3.*", ".dist-info", wheel.name)}


def test_the_readme_shows_the_consumer_stack_the_test_runs() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Using the components from another stack", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)

    assert (CONSUMER / "__main__.py").read_text() in blocks
