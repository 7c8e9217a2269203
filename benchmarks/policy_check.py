"""How long `python -m approvals.policies check` takes, against running the same program alone.

The baseline captures the program under the same mocks, as a preview, with no policy;
the check adds the pack's eighteen policies on top. Two programs: the reference stack,
and a team's 500-resource program (buckets, topics, accounts and their grants).
"""

from collections.abc import Callable

import pulumi_gcp as gcp

from approvals.policies.check import check_graph
from approvals.testing import Graph, capture, capture_program

from .stack_evaluation import CONFIG, REPO, timed

LABELS = {"app": "reports", "managed-by": "pulumi"}
TEAMS = 125  # four resources each: 500


def five_hundred_resources() -> None:
    """A bucket, a topic, a service account and its project grant per team, all auto-named."""
    for team in range(TEAMS):
        gcp.storage.Bucket(
            f"exports-{team}",
            location="EU",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            labels=LABELS,
        )
        gcp.pubsub.Topic(f"events-{team}", labels=LABELS)
        account = gcp.serviceaccount.Account(f"runner-{team}", account_id=f"runner-{team:03d}")
        gcp.projects.IAMMember(
            f"runner-{team}-logs",
            project=CONFIG["gcp:project"],
            role="roles/logging.logWriter",
            member=account.email.apply(lambda email: f"serviceAccount:{email}"),
        )


def report(repeat: int = 5) -> list[str]:
    programs: tuple[tuple[str, Callable[[], Graph]], ...] = (
        ("reference stack (dev)", lambda: capture_program(REPO / "__main__.py", stack="dev", preview=True)),
        ("500-resource program", lambda: capture(five_hundred_resources, config=CONFIG, preview=True)),
    )
    lines = []
    for label, program in programs:
        alone, graph = timed(program, repeat)
        checked, _ = timed(lambda program=program: check_graph(program()), repeat)
        resources = sum(r.custom for r in graph.resources)
        lines.append(
            f"{label:24} {resources:4d} resources  program alone {alone * 1000:7.1f} ms"
            f"  with the check {checked * 1000:7.1f} ms  ratio {checked / alone:4.2f}x"
        )
    return lines
