import base64
import json


def ingest(event, context):
    record = json.loads(base64.b64decode(event["data"]))
    print(json.dumps({"severity": "INFO", "record": record}))


def status(request):
    return {"ok": True}
