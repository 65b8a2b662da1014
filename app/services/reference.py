"""Reference data every deployment needs before anyone can work: the places and the rules.

`python -m app.cli migrate` calls `load_reference_data` after the schema migrations, so a
fresh deployment without demo data has its 34 provinces, 3,321 communes and the episode
duration rules. Every loader here is idempotent: it adds only what is missing and never
changes a row an administrator may have edited. New reference tables get their loader called
from this one function, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.services import places, rules


@dataclass(frozen=True)
class ReferenceLoadResult:
    provinces_added: int
    communes_added: int
    rules_added: int

    def summary(self) -> str:
        return (f"{self.provinces_added} provinces, {self.communes_added} communes and "
                f"{self.rules_added} duration rules added")


def load_reference_data(*, session: Session) -> ReferenceLoadResult:
    """Load what is missing of the places and the duration rules (in the caller's transaction)."""
    loaded = places.load_places(session)
    rules_added = rules.seed_duration_rules(session)
    return ReferenceLoadResult(
        provinces_added=loaded.provinces_added,
        communes_added=loaded.communes_added,
        rules_added=rules_added,
    )
