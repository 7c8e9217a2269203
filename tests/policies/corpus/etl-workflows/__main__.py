import pulumi
from pipelines import Pipeline, deploy

gcp_config = pulumi.Config("gcp")
project, region = gcp_config.require("project"), gcp_config.require("region")
labels = {"app": "etl", "managed-by": "pulumi"}

pipelines = [Pipeline.from_config(entry) for entry in pulumi.Config().require_object("pipelines")]
workflows = {p.name: deploy(p, project, region, labels) for p in pipelines}

pulumi.export("workflows", {name: wf.id for name, wf in workflows.items()})
