"""Prompt templates, one per task, as ``str.format`` templates.

Fields: ``{question}``; for multiple choice also ``{choices}`` (one
``X: text`` line per letter) and ``{context}`` (empty or a passage).
Builtin ids: ``gsm8k-cot``, ``math-cot``, ``mc-cot`` (files beside this one).
"""

from __future__ import annotations

import string
from importlib import resources

from real_runs.errors import ConfigError

BUILTIN = ("gsm8k-cot", "math-cot", "mc-cot")
DEFAULT_FOR_TASK = {"gsm8k": "gsm8k-cot", "math": "math-cot", "mc": "mc-cot"}
FIELDS = {"question", "choices", "context"}


def builtin(prompt_id: str) -> str:
    if prompt_id not in BUILTIN:
        raise ConfigError(f"prompt={prompt_id!r} is not a builtin template {list(BUILTIN)}")
    return resources.files(__package__).joinpath(f"{prompt_id}.txt").read_text(encoding="utf-8")


def check_template(template: str, where: str) -> None:
    """Refuse a template with fields other than question/choices/context."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as e:
        raise ConfigError(f"{where}: template is not a valid format string ({e})") from None
    bad = names - FIELDS
    if bad:
        raise ConfigError(f"{where}: template field(s) {sorted(bad)} are not among {sorted(FIELDS)}")
    if "question" not in names:
        raise ConfigError(f"{where}: template has no {{question}} field")
