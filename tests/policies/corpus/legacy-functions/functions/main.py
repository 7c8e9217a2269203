def stripe(request):
    return "", 204


def adyen(request):
    return "[accepted]"


def shopify(request):
    return "", 200


def healthz(request):
    return "ok"
