"""Orders API (staging): Cloud Run + Cloud SQL, the DSN in Secret Manager."""

import pulumi
from database import create_database
from service import create_service

config = pulumi.Config()
region = pulumi.Config("gcp").require("region")

db = create_database(region, config.require_secret("dbPassword"))
service, account = create_service(region, config.require("image"), db, config.require("frontendGroup"))

pulumi.export("url", service.uri)
pulumi.export("service_account", account.email)
pulumi.export("connection_name", db.instance.connection_name)
