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


class TextToSpec(Spec):
    """People a reminder reaches by text message (短信) at a phone the case holds, e.g. the
    respondents among a mediation's parties, who have no account: every row of `table`
    whose columns meet `when` and whose `phone` column is a mobile number."""

    table: str
    phone: str  # a phone column of the table
    name: str | None = None  # the column with the person's name, for the greeting
    when: Condition | None = None  # which rows, judged on the row's own columns


class ReminderSpec(Spec):
    """Reminders for dated rows of a table, e.g. instalments of a payment plan: a row whose
    date has passed and that is not marked done reminds `notify` once, and texts `sms`."""

    key: Annotated[str, Field(pattern=KEY_RE)]
    name: str
    table: str
    date_field: str
    done_field: str
    while_in: tuple[str, ...] = Field(min_length=1)
    notify: tuple[str, ...] = ("applicant", "handler")  # applicant, handler, or a role code
    sms: tuple[TextToSpec, ...] = ()


class ComputedSpec(Spec):
    """A value the engine computes from what was entered; it can never be typed in.

    rule `limits`: each row of `table` compares its `value` column with its `limit` column
    using the operator in its `op` column (≤ < ≥ > =); all within → `pass_label`, else
    `fail_label` (and `<key>_failed` lists the rows' `label` column values that failed).
    rule `sum`: the sum of the `value` column (times the `times` column, row by row, if
    given). rule `count`: the number of rows. rule `product`: the fields in `of`
    multiplied (e.g. accepted quantity × piece rate); empty while any is missing.
    """

    key: Annotated[str, Field(pattern=KEY_RE)]
    label: str
    rule: Literal["limits", "sum", "count", "product"]
    table: str | None = None
    of: tuple[str, ...] = ()  # rule `product`: fields multiplied together
    value: str | None = None
    times: str | None = None
    limit: str | None = None
    op: str | None = None
    label_column: str | None = None
    pass_label: str = "合格"
    fail_label: str = "不合格"


class OutputsSpec(Spec):
    certificates: tuple[CertificateSpec, ...] = ()
    followups: tuple[FollowupSpec, ...] = ()
    spawn: tuple[SpawnSpec, ...] = ()
    reminders: tuple[ReminderSpec, ...] = ()
