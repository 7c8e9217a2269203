"""The partner webhooks this project serves (1st gen functions, kept until the v2 migration)."""

REGION = "europe-west2"
RUNTIME = "python39"

WEBHOOKS = {
    "stripe": {"memory": 256, "callers": ["serviceAccount:edge-proxy@acme-edge-dev.iam.gserviceaccount.com"]},
    "adyen": {"memory": 256, "callers": ["serviceAccount:edge-proxy@acme-edge-dev.iam.gserviceaccount.com"]},
    "shopify": {
        "memory": 512,
        "callers": ["serviceAccount:edge-proxy@acme-edge-dev.iam.gserviceaccount.com"],
    },
    "healthz": {"memory": 128, "callers": ["group:partner-eng@acme.example"]},
}
