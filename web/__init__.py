"""The approval page: `dist/` is its build output, shipped as package data for the web function."""
