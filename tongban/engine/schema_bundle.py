"""Catalog vocabulary, part 3: bundles (一件事) — several matters behind one form."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from tongban.engine.schema_base import KEY_RE, Condition, DurationSpec, FieldSpec, Spec


class BundleItemSpec(Spec):
    """One matter of the bundle.

    `map`: the matter's field key → the bundle's field key, where the two name the same
    thing differently (otherwise the same key is the same question). `when`: the item
    applies only if this holds for the bundle's answers. `needs`: items whose output this
    one waits for; `receives` then fills matter fields from them, each as
    `<item>.certificate` (the number of that item's certificate) or `<item>.<field>`.
    `for_each`: a table field of the bundle's own `fields`; one case of the matter per
    row (e.g. a pass per employee), each row's columns filling the matter fields of the
    same key (or the key `map` gives them); the other fields are asked once for all rows.
    Items that need a `for_each` item wait for every one of its rows.
    """

    key: Annotated[str, Field(pattern=KEY_RE)]
    matter: Annotated[str, Field(pattern=KEY_RE)]
    map: dict[str, str] = Field(default_factory=dict)
    when: Condition | None = None
    needs: tuple[str, ...] = ()
    receives: dict[str, str] = Field(default_factory=dict)
    for_each: str | None = None

    @model_validator(mode="after")
    def _receives_need(self) -> BundleItemSpec:
        if self.receives and not self.needs:
            raise ValueError("receives 需要先在 needs 中写明依赖的事项")
        return self


class BundleSpec(Spec):
    """A bundle (一件事): one form, one submission, one case per applicable item."""

    format: Literal[1] = 1
    kind: Literal["bundle"]
    code: Annotated[str, Field(pattern=KEY_RE)]
    name: str = Field(min_length=1, max_length=100)
    category: str = "一件事"
    description: str | None = None
    applicant: Literal["person", "enterprise", "any"]
    time_limit: DurationSpec
    fields: tuple[FieldSpec, ...] = ()  # questions of the bundle itself (e.g. for `when`)
    material_map: dict[str, str] = Field(default_factory=dict)  # matter material → shared key
    items: tuple[BundleItemSpec, ...] = Field(min_length=2)
    keywords: tuple[str, ...] = ()
    counters_separately: int | None = Field(None, gt=0)  # windows visited without the bundle
