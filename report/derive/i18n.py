"""The dossier's language: kept here for the stages that import it; the data lives in report/languages."""

from __future__ import annotations

from ..languages import Language

__all__ = ["Language"]
