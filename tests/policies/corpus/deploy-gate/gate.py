"""A deploy gate: the workflow waits for approval, then rolls the new image out."""

import json
from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

SOURCE = """
main:
  params: [request]
  steps:
    - policy:
        assign:
          - policy: ${json.decode(sys.get_env("APPROVAL_POLICY"))}
    - maybe_skip:
        switch:
          - condition: ${policy.mode == "auto"}
            next: roll_out
    - callback:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: callback
    - ask:
        call: http.post
        args:
          url: https://chatops.acme.example/deploy-requests
          auth:
            type: OIDC
          body:
            image: ${request.image}
            approvers: ${json.decode(sys.get_env("APPROVERS"))}
            callback: ${callback.url}
    - wait:
        try:
          call: events.await_callback
          args:
            callback: ${callback}
            timeout: 14400
          result: answer
        except:
          as: e
          steps:
            - expired:
                switch:
                  - condition: ${"TimeoutError" in e.tags}
                    return: expired
            - fail:
                raise: ${e}
    - check:
        switch:
          - condition: ${answer.http_request.body.outcome != "approved"}
            return: rejected
    - roll_out:
        call: googleapis.run.v2.projects.locations.services.patch
        args:
          name: ${sys.get_env("SERVICE")}
          body:
            template:
              containers:
                - image: ${request.image}
    - done:
        return: deployed
"""


def deploy_gate(
    name: str,
    service: gcp.cloudrunv2.Service,
    runtime_account: gcp.serviceaccount.Account,
    approvers: Sequence[str],
    mode: str,
    region: str,
    labels: dict[str, str],
) -> gcp.workflows.Workflow:
    account = gcp.serviceaccount.Account(f"wf-{name}", account_id=f"wf-{name}")
    gcp.cloudrunv2.ServiceIamMember(
        f"wf-{name}-deploys",
        name=service.name,
        location=region,
        role="roles/run.developer",
        member=account.member,
    )
    gcp.serviceaccount.IAMMember(
        f"wf-{name}-acts-as-runtime",
        service_account_id=runtime_account.name,
        role="roles/iam.serviceAccountUser",
        member=account.member,
    )
    return gcp.workflows.Workflow(
        name,
        region=region,
        service_account=account.email,
        source_contents=SOURCE,
        user_env_vars={
            "APPROVERS": json.dumps(list(approvers)),
            "APPROVAL_POLICY": json.dumps({"mode": mode, "quorum": 1}),
            "SERVICE": service.id,
        },
        deletion_protection=True,
        labels=labels,
        opts=pulumi.ResourceOptions(depends_on=[account]),
    )
