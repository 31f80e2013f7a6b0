"""诉求 (requests): a resident's words turned into work for the right department, followed
until the resident is satisfied — 有人问 · 有人办 · 有人管.

A request is a case of the `citizen_request` matter (catalog/requests/). This package holds
its use cases, one module each:

* intake — registering from every channel, automatic routing, the query code (查询码)
* places — the deployment's area and the street or community a request belongs to
* classifier — the text classifier and the dispatcher corrections it learns from
* rules — the routing table (派单规则), its jurisdiction, and its xlsx export / import
* lifecycle — dispatching by hand, placing (属地), referral to people's mediation
* sweep — the worker's 催办 the day after a missed deadline; merged requests following

Repeats (duplicates), Open311 and the dashboard are services of their own. Everything a
caller needs is importable from here: `from tongban.services import requests`. The
classifier is not re-exported: intake looks it up on `requests.classifier`, which is
where a test makes it abstain.
"""

from tongban.services.requests import rules
from tongban.services.requests.classifier import corrections
from tongban.services.requests.intake import (
    TOKEN_ALPHABET,
    TOKEN_LENGTH,
    case_for_token,
    intake,
    token_of,
)
from tongban.services.requests.lifecycle import (
    DISPATCHABLE,
    MEDIATION,
    dispatch,
    get_request,
    keep,
    mediation_of,
    refer_mediation,
    relocate,
    request_of,
    sent_back_reason,
)
from tongban.services.requests.places import (
    AREAS,
    OUTSIDE_AREA,
    areas,
    districts_at,
    locate,
    parse_point,
)
from tongban.services.requests.rules import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    RULE_HEADERS,
    delete_rule,
    department_for,
    export_rules,
    import_rules,
    may_edit,
    may_edit_rule,
    save_rule,
    visible_rules,
)
from tongban.services.requests.spec import (
    CHANNELS,
    MATTER,
    MAX_TEXT,
    category_options,
    department_labels,
    department_options,
)
from tongban.services.requests.sweep import (
    DEPARTMENT_STATES,
    URGE_AFTER,
    URGE_TOPIC,
    follow_originals,
    sweep,
    sweep_urges,
)

__all__ = [
    "AREAS",
    "CHANNELS",
    "DEPARTMENT_STATES",
    "DISPATCHABLE",
    "MATTER",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_TEXT",
    "MEDIATION",
    "OUTSIDE_AREA",
    "RULE_HEADERS",
    "TOKEN_ALPHABET",
    "TOKEN_LENGTH",
    "URGE_AFTER",
    "URGE_TOPIC",
    "areas",
    "case_for_token",
    "category_options",
    "corrections",
    "delete_rule",
    "department_for",
    "department_labels",
    "department_options",
    "dispatch",
    "districts_at",
    "export_rules",
    "follow_originals",
    "get_request",
    "import_rules",
    "intake",
    "keep",
    "locate",
    "may_edit",
    "may_edit_rule",
    "mediation_of",
    "parse_point",
    "refer_mediation",
    "relocate",
    "request_of",
    "rules",
    "save_rule",
    "sent_back_reason",
    "sweep",
    "sweep_urges",
    "token_of",
    "visible_rules",
]
