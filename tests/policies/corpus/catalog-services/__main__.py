import pulumi
from acme_kit import SharedPostgres, WebService, WebServiceArgs

config = pulumi.Config()
region = pulumi.Config("gcp").require("region")
repo, version = config.require("imageRepo"), config.require("version")
labels = {"app": "catalog", "team": "catalog"}

postgres = SharedPostgres("catalog-pg", region=region)
search = WebService(
    "catalog-search",
    WebServiceArgs(
        image=f"{repo}/search:{version}",
        region=region,
        database=postgres,
        labels=labels,
        invokers=["serviceAccount:storefront-run@acme-storefront-dev.iam.gserviceaccount.com"],
    ),
)
admin = WebService(
    "catalog-admin",
    WebServiceArgs(
        image=f"{repo}/admin:{version}",
        region=region,
        database=postgres,
        max_instances=2,
        labels=labels,
        invokers=["group:catalog-editors@acme.example"],
    ),
)
WebService(
    "catalog-images",
    WebServiceArgs(
        image=f"{repo}/images:{version}",
        region=region,
        labels=labels,
        invokers=[
            f"serviceAccount:catalog-search-run@{pulumi.Config('gcp').require('project')}.iam.gserviceaccount.com"
        ],
    ),
    opts=pulumi.ResourceOptions(depends_on=[search]),
)

pulumi.export("search_url", search.url)
pulumi.export("admin_url", admin.url)
