"""`python -m policies check ...` runs the offline check (check.py); anything else serves the
pack to the Pulumi CLI, whose plugin host runs this file from inside the pack's folder: it
starts the gRPC analyzer, prints its port and blocks until the CLI stops it."""

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def pack_module(name: str) -> ModuleType:
    """`policies.<name>`, also when this file runs as a plain script (no package around it).

    The plugin host runs it by path, and a published pack's folder can have any
    name, so the folder is imported as the package `policies` for the modules'
    relative imports to work.
    """
    if not __package__:
        folder = Path(__file__).resolve().parent
        spec = importlib.util.spec_from_file_location(
            "policies", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules["policies"] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{__package__ or 'policies'}.{name}")


def main() -> None:
    if sys.argv[1:2] == ["check"]:
        try:
            check = pack_module("check")
        except ModuleNotFoundError as error:
            if error.name != "pulumi_policy":
                raise
            sys.exit('error: the policy check needs pulumi-policy: pip install "approvals[policies]"')
        sys.exit(check.main(sys.argv[2:]))
    from pulumi_policy import PolicyPack

    try:
        pack = pack_module("pack")
    except ModuleNotFoundError as error:
        if error.name != "approvals":
            raise
        sys.exit("error: the pack reads workflows with approvals.engine: install approvals into its venv")
    PolicyPack(name=pack.PACK_NAME, policies=pack.POLICIES, description=pack.DESCRIPTION)


if __name__ == "__main__":
    main()
