"""What every part of 诉求 shares: the matter, its channels, its categories and departments."""

from __future__ import annotations

from tongban.services import catalog

MATTER = "citizen_request"
CHANNELS = {"web": "网站", "hotline": "热线", "api": "接口", "open311": "Open311"}
MAX_TEXT = 2000


def current_spec():
    return catalog.spec_of(catalog.current_version(MATTER))


def category_options() -> tuple[str, ...]:
    """The request categories of the current catalog version (also the Open311 codes)."""
    field = current_spec().field("category")
    return tuple(field.options) if field is not None else ()


def department_options() -> tuple[str, ...]:
    return tuple(current_spec().state("dispatched").roles_allowed)


def department_labels() -> dict[str, str]:
    labels = catalog.role_labels()
    return {code: labels.get(code, code) for code in department_options()}
