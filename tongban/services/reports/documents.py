"""Documents a case offers for download besides its certificates, registered per matter.

A certificate is declared in the catalog and numbered; these are documents printed from a
case as it stands (the 人民调解协议书 of a mediation, once agreed). The case pages list
what `for_case` returns, so no template names a matter. Register a new one here with the
test that says when it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tongban.services.reports import mediation
from tongban.store.models import Case


@dataclass(frozen=True)
class CaseDocument:
    """A document of a case: `key` is also the URL name of its download view
    (tongban/web/urls_reports.py, which takes the case id)."""

    key: str
    name: str


REGISTERED: dict[str, tuple[tuple[CaseDocument, Callable[[Case], bool]], ...]] = {
    mediation.MATTER: (
        (CaseDocument("mediation_agreement", "调解协议书"), mediation.has_agreement),
    ),
}


def for_case(case: Case) -> list[CaseDocument]:
    """The documents that exist for `case` now. No permission check: the caller has the case
    from `cases.get_case`, and the download views check the same way."""
    return [document for document, exists in REGISTERED.get(case.matter_code, ()) if exists(case)]
