"""Code shared by the functions; deployed under common/ next to each main.py."""
