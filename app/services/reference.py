"""Reference data every deployment needs before anyone can work: the places, the law's rules
and clocks (`app.services.law.load_rules`), the privacy terms and the public holidays.

`python -m app.cli migrate` calls `load_reference_data` after the schema migrations, so a
fresh deployment without demo data has its 34 provinces, 3,321 communes and the episode
duration rules. Every loader here is idempotent: it adds only what is missing and never
changes a row an administrator may have edited. New reference tables get their loader called
from this one function, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.services import calendar, places
from app.services.calendar import today_vn
from app.services.law import load_rules
from app.services.privacy.terms import seed_terms


@dataclass(frozen=True)
class ReferenceLoadResult:
    provinces_added: int
    communes_added: int
    rules_added: int
    terms_added: int = 0
    holidays_added: int = 0

    def summary(self) -> str:
        return (f"{self.provinces_added} provinces, {self.communes_added} communes, "
                f"{self.rules_added} duration rules, {self.terms_added} privacy terms and "
                f"{self.holidays_added} public holidays added")


def load_reference_data(*, session: Session) -> ReferenceLoadResult:
    """Load what is missing of the places, the law's rules and clocks, the privacy terms and
    the holidays (in the caller's transaction)."""
    loaded = places.load_places(session)
    rules_added = load_rules(session)
    # The privacy terms (request clocks, 72 h, retention) and the holidays legal clocks skip:
    # this year's and the next five (an administrator adds what a decree moves). The law's
    # clocks reach back to 2022 (episodes decided under Law 73/2021).
    year = today_vn().year
    return ReferenceLoadResult(
        provinces_added=loaded.provinces_added,
        communes_added=loaded.communes_added,
        rules_added=rules_added,
        terms_added=seed_terms(session),
        holidays_added=calendar.seed_holidays(session=session, years=range(2022, year + 6)),
    )
