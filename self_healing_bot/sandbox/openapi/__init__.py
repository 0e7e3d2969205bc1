"""Vendored GitHub API descriptions (see scripts/vendor_github_openapi.py)."""
