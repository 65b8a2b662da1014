"""The drug law as the app runs it: decision-driven episodes, rules and clocks as data,
transitions between episodes, the law's other records, and its deadlines.

- `rules`: term rules and clocks (rows with effective dates), the loader, overlaps;
- `episodes`: opening by decision, reductions, closing, term review after rule changes;
- `transitions`: post-rehab proposals and their acceptance;
- `records`: addiction determinations, electronic monitoring, changes of residence, notices;
- `deadlines`: the law's deadlines on a supervisor's screen.
"""

from app.services.law import deadlines, episodes, records, rules, transitions
from app.services.law.deadlines import supervisor_deadlines
from app.services.law.episodes import (
    add_reduction,
    approve_closure,
    confirm_terms,
    episodes_ending_soon,
    episodes_overdue,
    keep_terms,
    open_episode,
    propose_closure,
    record_episode,
    reject_closure,
    rule_change_impact,
    term_changes,
)
from app.services.law.records import (
    determinations,
    monitorings,
    record_determination,
    record_fault,
    record_move,
    record_move_notice,
    record_provider_notice,
    start_monitoring,
)
from app.services.law.rules import (
    add_rule,
    clock_for,
    close_rule,
    list_rules,
    load_rules,
    rule_for,
    rule_in_force,
)
from app.services.law.transitions import (
    accept_post_rehab,
    dismiss_post_rehab,
    post_rehab_proposals,
)

__all__ = [
    "accept_post_rehab",
    "add_reduction",
    "add_rule",
    "approve_closure",
    "clock_for",
    "close_rule",
    "confirm_terms",
    "deadlines",
    "determinations",
    "dismiss_post_rehab",
    "episodes",
    "episodes_ending_soon",
    "episodes_overdue",
    "keep_terms",
    "list_rules",
    "load_rules",
    "monitorings",
    "open_episode",
    "post_rehab_proposals",
    "propose_closure",
    "record_determination",
    "record_episode",
    "record_fault",
    "record_move",
    "record_move_notice",
    "record_provider_notice",
    "records",
    "reject_closure",
    "rule_change_impact",
    "rule_for",
    "rule_in_force",
    "rules",
    "start_monitoring",
    "supervisor_deadlines",
    "term_changes",
    "transitions",
]
