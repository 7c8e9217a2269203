"""Local stand-ins for Google services, used by the tests and the local stack."""
