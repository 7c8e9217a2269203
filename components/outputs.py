"""Outputs declared once: a class of annotations gives a component both its typed
attributes (what users and IDEs see) and the outputs it registers with the engine."""

from typing import Any

import pulumi


def register_declared(component: pulumi.ComponentResource, declared: type, **values: Any) -> None:
    """Set each output `declared` annotates as an attribute of `component`, and register them all.

    A missing or unknown name is a programming error here, not a user's: it fails at once.
    """
    names = declared.__annotations__.keys()
    if values.keys() != names:
        raise TypeError(
            f"{declared.__name__}: missing {sorted(names - values.keys())}, "
            f"unknown {sorted(values.keys() - names)}"
        )
    for name, value in values.items():
        setattr(component, name, value)
    component.register_outputs(values)
