"""Cloud Functions of approvals; each subfolder is deployed on its own with common/ beside it."""
