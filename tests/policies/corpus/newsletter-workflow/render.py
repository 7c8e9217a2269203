"""Renders the newsletter workflow once the bucket and topic names are known."""

import json


def quoted(value: str) -> str:
    """A YAML-safe double-quoted string (templates.py uses it too)."""
    return json.dumps(value)


def workflow_source(names: list[str]) -> str:
    # templates imports this module for quoted(): import it here, not at the top, to break the cycle.
    import templates

    bucket, topic = names
    return templates.NEWSLETTER.format(bucket=quoted(bucket), topic=quoted(topic))
