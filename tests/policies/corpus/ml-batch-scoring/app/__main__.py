import pulumi
import pulumi_gcp as gcp
from jobs import every, scoring_function
from vault import Vault

config = pulumi.Config()
region = pulumi.Config("gcp").require("region")
labels = {"app": "churn-scoring", "managed-by": "pulumi"}

scorer = gcp.serviceaccount.Account("churn-scorer", account_id="churn-scorer")
scheduler = gcp.serviceaccount.Account("churn-scheduler", account_id="churn-scheduler")

vault = Vault("churn", labels)
token = vault.generated("feature-store-token", rotate_days=30)
reader = vault.grant("feature-store-token", scorer)

function = scoring_function(
    "churn-scoring",
    region=region,
    account=scorer,
    secret=token,
    waits_for=[reader],
    model_uri=config.require("modelUri"),
    labels=labels,
)
job = every("churn-scoring-every-6h", config.require("schedule"), function, scheduler, region)

pulumi.export("function_url", function.url)
pulumi.export("job", job.name)
