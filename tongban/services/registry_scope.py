"""Registry kinds, who may read and write them (Scope), and the org column of an import.

Split from tongban.services.registry (which re-exports every name); see its docstring."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from tongban.engine.validators import ValidationError
from tongban.registry.kinds import KINDS, Kind
from tongban.registry.validate import OrgRef
from tongban.services.errors import Forbidden, NotFound
from tongban.store import models as m
from tongban.store.choices import LEVELS
from tongban.store.models import Membership, Org
from tongban.store.models.org import jurisdiction_columns

log = logging.getLogger("tongban.registry")

J_COLUMNS = tuple(f"j_{level}" for level in LEVELS)
RECORD_LEVELS = ("community", "grid")  # the orgs a record may belong to


# --- kinds and rights ------------------------------------------------------------------


def kinds() -> list[Kind]:
    return list(KINDS.values())


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(f"没有“{name}”这种台账，可选：{'、'.join(KINDS)}")
    return kind


def model_of(kind: Kind):
    return getattr(m, kind.model)


@lru_cache(maxsize=1)
def health_roles() -> frozenset[str]:
    """Roles marked `sees_health: true` in the deployment's roles.yaml."""
    from tongban.engine.errors import CatalogError
    from tongban.engine.loader import ROLES_FILE, parse_roles

    path = Path(settings.CATALOG_DIR) / ROLES_FILE
    try:
        roles = parse_roles(path.read_text("utf-8"), str(path)).roles
    except (OSError, CatalogError):
        log.warning("cannot read %s: no role sees health tags", path)
        return frozenset()
    return frozenset(code for code, role in roles.items() if role.sees_health)


@dataclass(frozen=True)
class Scope:
    """Where a user may read and write registry records."""

    user: Any = None  # None: the operator's command line, the whole tree
    pairs: frozenset[tuple[str, str]] = frozenset()  # (level, org code) of every role
    health: frozenset[tuple[str, str]] = frozenset()  # … of roles that see health tags
    paths: tuple[str, ...] = ()

    @property
    def system(self) -> bool:
        return self.user is None

    def covers(self, j: Mapping[str, str]) -> bool:
        return self.system or any(j.get(f"j_{lvl}") == code for lvl, code in self.pairs)

    def sees_health(self, j: Mapping[str, str]) -> bool:
        # The operator may load health tags but never reads them: see export().
        return any(j.get(f"j_{lvl}") == code for lvl, code in self.health)

    @property
    def any_health(self) -> bool:
        return bool(self.health)


def scope_of(user) -> Scope:
    """The user's scope; Forbidden unless they hold a role somewhere."""
    if user is None:
        return Scope()
    if not user.is_authenticated:
        raise Forbidden("请先登录")
    rows = list(
        Membership.objects.filter(user_id=user.pk).values_list(
            "role", "org__level", "org__code", "org__path"
        )
    )
    if not rows:
        raise Forbidden("只有工作人员可以使用台账")
    health = health_roles()
    return Scope(
        user=user,
        pairs=frozenset((lvl, code) for _, lvl, code, _ in rows),
        health=frozenset((lvl, code) for role, lvl, code, _ in rows if role in health),
        paths=tuple(sorted({path for *_, path in rows})),
    )


def records(kind: Kind, scope: Scope) -> QuerySet:
    """The kind's records the scope may see."""
    qs = model_of(kind).objects.all()
    if scope.system:
        return qs
    return qs.visible_to(scope.user)


# --- organisations named in a spreadsheet ----------------------------------------------

_CODE_IN_LABEL = re.compile(r"[（(]\s*([0-9]{6,20})\s*[）)]\s*$")


class OrgResolver:
    """Turns the text of the org column into an OrgRef, within the scope.

    Accepts a code (32050710300101), a name (湘城社区第一网格) or an export's label
    (湘城社区第一网格（32050710300101）). The org tree is small: it is read once."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.by_code: dict[str, tuple[int, str, str, str]] = {}
        self.by_name: dict[str, list[str]] = {}
        for pk, code, name, level, path in Org.objects.values_list(
            "pk", "code", "name", "level", "path"
        ):
            self.by_code[code] = (pk, name, level, path)
            self.by_name.setdefault(name, []).append(code)
        self.cache: dict[str, OrgRef] = {}

    def __call__(self, text: str) -> OrgRef:
        found = self.cache.get(text)
        if found is None:
            found = self.cache[text] = self._resolve(text)
        return found

    def _resolve(self, text: str) -> OrgRef:
        label = text.strip()
        match = _CODE_IN_LABEL.search(label)
        code = match[1] if match else label
        if code not in self.by_code:
            codes = self.by_name.get(label, [])
            inside = [c for c in codes if self._inside(self.by_code[c][3])]
            if len(inside) > 1 or (len(codes) > 1 and not inside):
                raise ValidationError(f"名称“{label}”对应多个网格或社区，请改填代码")
            if not codes:
                raise ValidationError(
                    f"找不到网格或社区“{label[:40]}”，请填写代码（如 32050710300101）或准确名称"
                )
            code = (inside or codes)[0]
        pk, name, level, path = self.by_code[code]
        if level not in RECORD_LEVELS:
            raise ValidationError(f"“{name}”不是社区或网格，请填写其下的社区或网格")
        if not self._inside(path):
            raise ValidationError(f"“{name}”不在您的辖区内，不能导入")
        return OrgRef(pk, code, name, jurisdiction_columns(path))

    def _inside(self, path: str) -> bool:
        if self.scope.system:
            return True
        return any(path == p or path.startswith(p + "/") for p in self.scope.paths)
