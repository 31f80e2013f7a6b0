"""Who issues a certificate, read from the matter: the roles that may take an action
leading into the state whose entry issues it.

The service layer lets those roles (and the head of the issuing body) revoke what they
issued; nothing here names a matter or a role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tongban.engine.schema import MatterSpec
from tongban.engine.schema_base import APPLICANT, SYSTEM
from tongban.engine.steps import state_roles


def issuing_roles(
    spec: MatterSpec, certificate_key: str, data: Mapping[str, Any]
) -> tuple[tuple[str, str | None], ...]:
    """(role, level) pairs that may take an action moving a case into the `on` state of the
    certificate `certificate_key`: the action's `by` roles, else the role (or the signers)
    of the state it is taken from, at that state's level — as the workflow authorises the
    action itself. `data` is the case's data, for a state whose role comes from a field.

    The applicant and the system are never issuers; a certificate issued on submission
    (its `on` is the start state) has no issuing role. Unknown keys give ()."""
    cert = next((c for c in spec.outputs.certificates if c.key == certificate_key), None)
    if cert is None:
        return ()
    pairs: list[tuple[str, str | None]] = []
    for action in spec.workflow.actions.values():
        if action.to != cert.on and cert.on not in (action.back_to or ()):
            continue
        for source in action.from_:
            st = spec.workflow.states.get(source)
            if st is None:
                continue
            for role in action.by or state_roles(st, data):
                pair = (role, st.level)
                if role not in (APPLICANT, SYSTEM) and pair not in pairs:
                    pairs.append(pair)
    return tuple(pairs)
