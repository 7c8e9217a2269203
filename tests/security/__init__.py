"""The attack suite: the hardening review's attacks, replayed against the local stack."""
