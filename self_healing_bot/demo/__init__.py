"""The one-command demo: a sample ML repository in the GitHub sandbox, the bot, and incidents.

`scenario.yml` declares the world and the incidents; `scenario.py` reads it, `outcome.py`
decides from the bot's own database what became of an incident, and `stage.py` runs it all.
"""
