"""Role -> members, per project. Reviewed by the data governance board."""

WAREHOUSE = {
    "roles/bigquery.dataViewer": ["group:analysts@acme.example", "group:finance-analysts@acme.example"],
    "roles/bigquery.jobUser": ["group:analysts@acme.example", "group:data-engineers@acme.example"],
    "roles/bigquery.dataEditor": ["group:data-engineers@acme.example"],
    "roles/dataplex.viewer": ["group:data-stewards@acme.example"],
}

SANDBOX = {
    "roles/bigquery.user": ["group:analysts@acme.example"],
    # Analysts asked to browse everything in the sandbox.
    "roles/viewer": ["group:analysts@acme.example"],
    "roles/storage.objectViewer": ["group:analysts@acme.example"],
}

IMPERSONATORS = ["group:data-engineers@acme.example"]
