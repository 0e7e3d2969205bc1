"""Self-healing bot: a GitHub App that diagnoses and repairs failing ML pipelines."""

__version__ = "0.1.0"
