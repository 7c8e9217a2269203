"""The approvals CrossGuard policy pack: the platform's security model as checks.

`pulumi preview --policy-pack policies` runs it under the Pulumi CLI (the plugin
host starts `__main__.py`); `python -m policies check PROGRAM.py` applies the same
policies offline, to a program run under mocks (see `check.py`).
"""
