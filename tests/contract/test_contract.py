"""Every layer against the one contract (functions/common/contract.json).

The components set env vars and collections, the workflows (YAML) and the
functions read them and write documents that the functions and the page (JS)
read. Each test below takes one layer and fails when it uses a name the
contract does not declare, so that a field or a setting added in one place
only cannot pass unnoticed.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from approvals import Collections
from approvals.database import firestore_rules
from approvals.engine.language import queries
from approvals.errors import InvalidArgumentError
from approvals.functions.common.contract import (
    COLLECTIONS,
    DOCUMENT_FIELDS,
    FUNCTION_ENV,
    PAGE_COLLECTIONS,
    PAGE_CONFIG,
    WORKFLOW_ENV,
)
from approvals.policies.firestore_rules import rules
from approvals.testing import Graph, capture_program
from approvals.workflow_templates import available_templates, load_template, render
from approvals.workflow_templates.renderer import BUILTIN_ENV_VARS
from tests.support.python_source import parse
from tests.templates.examples import PLATFORM_ENV, args_of, rendered_workflow

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
WEB = REPO / "web"
APPROVAL_TEMPLATE_TYPE = "approvals:index:ApprovalWorkflow"


@pytest.fixture(scope="module")
def dev_graph() -> Graph:
    return capture_program(REPO / "__main__.py", stack="dev")


def test_collections_are_the_contracts_with_its_defaults_and_env_vars() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(Collections)}
    assert fields == {key: entry.default for key, entry in COLLECTIONS.items()}
    assert Collections().environment() == {entry.env: entry.default for entry in COLLECTIONS.values()}
    renamed = Collections.renamed({"requests": "team_requests"})
    assert renamed.requests == "team_requests" and renamed.audit == COLLECTIONS["audit"].default


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        ({"requests": "{x}"}, r"\['\{x\}'\] cannot name collections"),
        ({"requests": "__secret__"}, r"\['__secret__'\] cannot name collections"),
        ({"requests": "approval_audit"}, r"\['approval_audit'\] would hold two of the platform's"),
    ],
)
def test_a_collection_name_the_rules_cannot_hold_is_refused(names: dict[str, str], problem: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"approvals:collections: {problem}"):
        Collections.renamed(names, "approvals:collections")


def test_prefixed_collections_rename_every_one() -> None:
    names = Collections.prefixed("team_").names()
    assert names == {key: f"team_{key}" for key in COLLECTIONS}


def test_a_template_keeps_its_documents_only_in_its_requester_collections() -> None:
    for name in available_templates():
        located = {
            args_of(site)["name"]
            for site in queries.calls(rendered_workflow(name))
            if site.call.function == "template_collection"
        }
        assert located <= set(load_template(name).requester_collections), name


def test_renaming_an_unknown_collection_names_the_setting_and_the_known_ones() -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"approvals:collections: unknown collections \['request'\]"
    ):
        Collections.renamed({"request": "team_requests"}, "approvals:collections")


def test_the_platform_sets_only_declared_env_vars(dev_graph: Graph) -> None:
    for function in dev_graph.of_type("gcp:cloudfunctionsv2/function:Function"):
        env = set(function.inputs["serviceConfig"].get("environmentVariables") or {})
        secrets = {s["key"] for s in function.inputs["serviceConfig"].get("secretEnvironmentVariables") or []}
        assert env | secrets <= FUNCTION_ENV, function.name
    for component in dev_graph.of_type(APPROVAL_TEMPLATE_TYPE):
        [workflow] = [r for r in dev_graph.children(component) if r.type == "gcp:workflows/workflow:Workflow"]
        template = load_template(workflow.inputs["userEnvVars"]["APPROVAL_TEMPLATE"])
        assert set(workflow.inputs["userEnvVars"]) == WORKFLOW_ENV | set(template.params), component.name


def test_the_template_examples_set_what_the_platform_sets() -> None:
    # The library reads these two with defaults: no policy, no events topic.
    assert set(PLATFORM_ENV) == WORKFLOW_ENV - {"APPROVAL_POLICY", "APPROVALS_EVENTS_TOPIC"}


@pytest.mark.parametrize("name", available_templates())
def test_templates_read_only_declared_env_vars(name: str) -> None:
    template = load_template(name)
    allowed = WORKFLOW_ENV | set(template.params) | BUILTIN_ENV_VARS
    program = rendered_workflow(name)
    read = {r.name for r in queries.env_reads(program)}
    assert None not in read, "an env var name must be a constant"
    assert read <= allowed, sorted(read - allowed)


def test_a_template_reading_an_undeclared_env_var_does_not_render(tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    own.write_text('main:\n  steps:\n    - read:\n        return: ${sys.get_env("APPROVALS_UNDECLARED")}\n')
    with pytest.raises(ValueError, match="APPROVALS_UNDECLARED"):
        render(load_template(own), PLATFORM_ENV)


def _written_fields(kind_of_collection: dict[str, str]) -> dict[str, set[str]]:
    """Per document kind, the fields the step library writes (values and timestamps)."""
    written: dict[str, set[str]] = {}
    for name in available_templates():
        program = rendered_workflow(name)
        for site in queries.calls(program):
            if site.call.function not in ("firestore_create_document", "firestore_update_document"):
                continue
            args = args_of(site)
            kind = next(
                (k for pattern, k in kind_of_collection.items() if pattern in str(args["collection"])), None
            )
            if kind is not None:
                written.setdefault(kind, set()).update(args.get("values") or {}, args.get("timestamps") or {})
    return written


def test_the_workflows_write_only_declared_document_fields() -> None:
    written = _written_fields(
        {"requests_collection": "request", "REQUESTS_COLLECTION": "request", "AUDIT_COLLECTION": "audit"}
        | {"callbacks_collection": "callback"}
    )
    assert set(written) == {"request", "audit", "callback"}
    for kind, fields in written.items():
        assert fields <= DOCUMENT_FIELDS[kind], (kind, sorted(fields - DOCUMENT_FIELDS[kind]))


def test_the_workflows_read_only_declared_document_fields() -> None:
    every_field = set().union(*DOCUMENT_FIELDS.values())
    library = (REPO / "workflow_templates" / "lib" / "approval.yaml").read_text()
    read = set(re.findall(r'\["fields", "(\w+)"', library))
    assert read and read <= every_field, sorted(read - every_field)


def test_the_rules_read_only_declared_request_and_audit_fields() -> None:
    text = firestore_rules(Collections())
    by_collection = {
        "approval_requests": "request",
        "approval_audit": "audit",
        "approval_extensions": "extension",
    }
    for rule in rules(text):
        kind = by_collection.get(rule.collection or "")
        # /databases/{database}/documents/<collection>/{id}: not the template documents below.
        if kind and len(rule.path.strip("/").split("/")) == 5:
            read = set(re.findall(r"resource\.data\.(\w+)", rule.condition or ""))
            assert read <= DOCUMENT_FIELDS[kind], (rule.path, sorted(read - DOCUMENT_FIELDS[kind]))
    request_reads = set(re.findall(r"approvalRequest\.(?:get\(')?(\w+)", text))
    assert request_reads and request_reads <= DOCUMENT_FIELDS["request"], sorted(
        request_reads - DOCUMENT_FIELDS["request"]
    )


def _env_names_read(tree: ast.AST) -> set[str]:
    """Names passed as constants to env(), os.environ.get(), os.environ[] and os.getenv()."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func in ("env", "os.environ.get", "os.getenv", "config.env"):
                found.add(node.args[0].value)
        subscript = isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ"
        if subscript and isinstance(node.slice, ast.Constant):
            found.add(node.slice.value)
    return found


def test_the_functions_read_only_declared_env_vars() -> None:
    read = set().union(*(_env_names_read(parse(p.read_text())) for p in FUNCTIONS.rglob("*.py")))
    assert {"APPROVALS_SITE_URL", "GOOGLE_CLOUD_PROJECT"} <= read  # the scan finds them
    assert read <= FUNCTION_ENV, sorted(read - FUNCTION_ENV)


def _page_code() -> str:
    """The page's own modules, without their comments."""
    texts = (p.read_text() for p in (WEB / "src").glob("*.js"))
    return "".join(re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S) for text in texts)


def test_the_page_reads_only_declared_config() -> None:
    code = _page_code()
    read = set(re.findall(r"(?<![\w/.])config\.(\w+)", code))
    assert {"collections", "database"} <= read
    assert read <= PAGE_CONFIG, sorted(read - PAGE_CONFIG)
    assert set(re.findall(r"\bstore\.names\.(\w+)", code)) == set(PAGE_COLLECTIONS)


def test_templates_with_a_panel_ship_a_page_module_and_the_page_knows_no_template_by_name() -> None:
    modules = {p.stem: p.read_text() for p in (REPO / "workflow_templates" / "page").glob("*.js")}
    assert set(modules) <= set(available_templates())
    for name in available_templates():
        if load_template(name).panel:
            assert "export const panel" in modules.get(name, ""), name
    assert "translat" not in _page_code()


def test_a_page_read_of_an_undeclared_field_is_reported(tmp_path: Path) -> None:
    """web/src/contract.js, bundled as the page bundles it, run in Node."""
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "esbuild").is_dir():
        pytest.fail("needs Node.js and web/node_modules (make web)")
    script = tmp_path / "check.mjs"
    script.write_text(
        f'import {{ checked }} from "{WEB / "src" / "contract.js"}";\n'
        'const request = checked("request", { id: "r1", status: "pending" });\n'
        "const read = [request.id, request.status, request.subject ?? null, request.statuz ?? null];\n"
        "console.log(JSON.stringify(read));\n"
    )
    bundled = tmp_path / "check.bundle.mjs"
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [esbuild, str(script), "--bundle", "--format=esm", "--platform=node", f"--outfile={bundled}"],
        cwd=WEB,
        check=True,
        capture_output=True,
    )
    run = subprocess.run([node, str(bundled)], capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == ["r1", "pending", None, None]
    assert run.stderr.count("contract: the page read") == 1
    assert "request.statuz" in run.stderr


def test_the_functions_read_documents_through_the_contract() -> None:
    """functions/common/documents.py: the functions' view of what the workflows write."""
    from approvals.functions.common.documents import Document, UndeclaredFieldError, check

    request = Document("request", {"status": "pending", "approvers": ["ada@example.com"]})
    assert request.get("status") == "pending" and request["approvers"] == ["ada@example.com"]
    assert request.get("decided_by") is None  # declared, not written yet
    with pytest.raises(UndeclaredFieldError, match="request documents have no field 'statuz'"):
        request.get("statuz")
    with pytest.raises(UndeclaredFieldError, match=r"vote documents have no fields \['weight'\]"):
        check("vote", {"voter": "ada@example.com", "weight": 2})
