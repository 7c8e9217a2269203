"""The Google Cloud type tokens the policies look at."""

WORKFLOW = "gcp:workflows/workflow:Workflow"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
BUCKET = "gcp:storage/bucket:Bucket"
FIRESTORE_DATABASE = "gcp:firestore/database:Database"
RULESET = "gcp:firebaserules/ruleset:Ruleset"
HOSTING_VERSION = "gcp:firebase/hostingVersion:HostingVersion"
