"""The export workflow's definition, rendered once the bucket's name is known."""

SOURCE = """\
main:
  params: [args]
  steps:
    - init:
        assign:
          - day: ${{default(map.get(args, "day"), text.substring(time.format(sys.now()), 0, 10))}}
          - target: ${{"gs://{bucket}/invoices/" + day + ".jsonl"}}
    - export:
        call: http.post
        args:
          url: https://billing.internal.acme.example/exports
          auth:
            type: OIDC
          body:
            day: ${{day}}
            target: ${{target}}
        result: response
    - done:
        return: ${{response.body}}
"""


def render(bucket: str) -> str:
    return SOURCE.format(bucket=bucket)
