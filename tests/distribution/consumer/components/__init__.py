"""The payments team's own components package: the layout many Pulumi stacks have."""

TEAM_LABELS = {"team": "payments"}
REFUND_APPROVERS = ["finance-lead@example.com", "group:finance"]
