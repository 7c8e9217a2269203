"""Helpers shared by the tests: stand-in servers, function runners, seeding."""

# The project id every local stand-in and function agrees on.
PROJECT = "demo-approvals"
