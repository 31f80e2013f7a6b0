"""Catalog vocabulary, part 2: what a case produces — certificates, follow-up reports,
reminders, computed values and spawned cases."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tongban.engine.schema_base import KEY_RE, Condition, DurationSpec, FieldSpec, Level, Spec


class NumberingSpec(Spec):
    """A gapless numbering rule, e.g. `{division}{seq:6}` or `苏相农通〔{year}〕{seq:5}`."""

    pattern: str = Field(min_length=1)
    reset: Literal["never", "yearly", "monthly", "daily"] = "never"
    division_level: Level = "district"


class ValiditySpec(Spec):
    """How long a certificate is valid: fixed days, or dates taken from fields."""

    days: int | None = Field(None, gt=0)
    from_field: str | None = None
    to_field: str | None = None


class CertificateSpec(Spec):
    key: Annotated[str, Field(pattern=KEY_RE)] = "certificate"
    name: str
    on: str  # the state whose entry issues it
    numbering: NumberingSpec
    validity: ValiditySpec | None = None
    template: str | None = None
    holder_field: str | None = None
    grants: str | None = None  # what the certificate grants, shown on the verify page
    show_fields: tuple[str, ...] = ()  # fields printed on the certificate


class FollowupSpec(Spec):
    """Recurring reports the applicant files while the case is in one of `while_in`."""

    key: Annotated[str, Field(pattern=KEY_RE)]
    name: str
    every: DurationSpec
    while_in: tuple[str, ...] = Field(min_length=1)
    fields: tuple[FieldSpec, ...] = Field(min_length=1)


class SpawnSpec(Spec):
    """On entering state `on`, open a case of another matter (e.g. an enforcement case)."""

    on: str
    matter: Annotated[str, Field(pattern=KEY_RE)]
    map: dict[str, str] = Field(default_factory=dict)  # target field -> source field
    when: Condition | None = None


class OutputsSpec(Spec):
    certificates: tuple[CertificateSpec, ...] = ()
    followups: tuple[FollowupSpec, ...] = ()
    spawn: tuple[SpawnSpec, ...] = ()
