"""Typed view of the stack's config."""

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class TopicSettings:
    name: str
    subscribers: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    project: str
    topics: tuple[TopicSettings, ...]
    publisher: str
    retention: str = "604800s"


def load() -> Settings:
    config = pulumi.Config()
    return Settings(
        project=pulumi.Config("gcp").require("project"),
        topics=tuple(
            TopicSettings(entry["name"], tuple(entry["subscribers"]))
            for entry in config.require_object("topics")
        ),
        publisher=config.require("publisher"),
    )
