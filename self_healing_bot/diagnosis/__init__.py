"""Root-cause diagnosis of CI and training logs (the pure core of the pipeline detector).

Read `diagnose.py` for the entry points, `rules.py` for the rule table, `selection.py`
for how the root cause is chosen.
"""

from self_healing_bot.diagnosis.diagnose import (
    diagnose_bytes,
    diagnose_file,
    diagnose_lines,
    diagnose_sources,
)
from self_healing_bot.diagnosis.reading import DiagnosisInputError
from self_healing_bot.diagnosis.result import Diagnosis, Evidence
from self_healing_bot.diagnosis.rules import (
    CATEGORIES,
    DEFAULT_RULES,
    Rule,
    RuleError,
    rules_from_config,
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_RULES",
    "Diagnosis",
    "DiagnosisInputError",
    "Evidence",
    "Rule",
    "RuleError",
    "diagnose_bytes",
    "diagnose_file",
    "diagnose_lines",
    "diagnose_sources",
    "rules_from_config",
]
