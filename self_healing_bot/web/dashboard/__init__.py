"""The dashboard: server-rendered pages over what the bot stores (see `routes.py`)."""
