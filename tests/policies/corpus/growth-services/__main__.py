"""The growth team's services on Cloud Run: each with its own account, named <team>-<service>-<env>."""

from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
TEAM = config.require("team")
ENV = pulumi.get_stack()
REGION = pulumi.Config("gcp").require("region")
TAG = config.require("imageTag")


@dataclass
class Microservice:
    name: str
    callers: list[str] = field(default_factory=list)
    memory: str = "512Mi"
    max_instances: int = 10


SERVICES = [
    Microservice("experiments", callers=["web-gateway"]),
    Microservice("referrals", callers=["web-gateway"]),
    Microservice(
        "recommendations-engine", callers=["web-gateway", "experiments"], memory="2Gi", max_instances=40
    ),
    Microservice("web-gateway"),
]


def account_id(service: str) -> str:
    return f"{TEAM}-{service}-{ENV}"


accounts = {
    svc.name: gcp.serviceaccount.Account(
        svc.name, account_id=account_id(svc.name), display_name=f"{svc.name} ({ENV})"
    )
    for svc in SERVICES
}
services = {}
for svc in SERVICES:
    services[svc.name] = gcp.cloudrunv2.Service(
        f"{TEAM}-{svc.name}",
        location=REGION,
        ingress="INGRESS_TRAFFIC_INTERNAL_ONLY" if svc.callers else "INGRESS_TRAFFIC_ALL",
        deletion_protection=False,
        template={
            "service_account": accounts[svc.name].email,
            "scaling": {"max_instance_count": svc.max_instances},
            "containers": [
                {
                    "image": f"europe-west1-docker.pkg.dev/acme-artifacts/{TEAM}/{svc.name}:{TAG}",
                    "resources": {"limits": {"memory": svc.memory, "cpu": "1"}},
                }
            ],
        },
        labels={"app": svc.name, "team": TEAM, "managed-by": "pulumi"},
    )
for svc in SERVICES:
    for caller in svc.callers:
        gcp.cloudrunv2.ServiceIamMember(
            f"{caller}-calls-{svc.name}",
            name=services[svc.name].name,
            location=REGION,
            role="roles/run.invoker",
            member=accounts[caller].member,
        )

pulumi.export("urls", {name: service.uri for name, service in services.items()})
