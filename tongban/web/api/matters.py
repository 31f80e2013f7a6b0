"""The catalog, public: which matters exist and what an application must contain."""

from ninja import Query, Router

from tongban.engine.calendar import Duration
from tongban.engine.schema import LEVEL_LABELS, FieldSpec, MatterSpec
from tongban.services import catalog
from tongban.web.api.errors import documented
from tongban.web.api.schemas import MatterDetail, MatterSummary

router = Router(tags=["事项"])

APPLICANT_LABELS = {"person": "个人", "enterprise": "企业", "any": "个人或企业"}


def duration_label(spec) -> str | None:
    if spec is None:
        return None
    return Duration(spec.amount, spec.unit).label_zh()


def field_out(f: FieldSpec) -> dict:
    table = f.type == "table"
    return {
        "key": f.key,
        "label": f.label,
        "type": f.type,
        "required": f.required,
        "help": f.help,
        "personal": f.is_personal,
        "options": list(f.options),
        "min_length": f.min_length,
        "max_length": f.max_length,
        "min": f.min,
        "max": f.max,
        "integer": f.integer,
        "unit": f.unit,
        "text": f.text,
        "material": f.material,
        "fields": [field_out(sub) for sub in f.fields],
        "min_rows": f.min_rows if table else None,
        "max_rows": f.max_rows if table else None,
    }


def summary(spec: MatterSpec, version: int) -> dict:
    return {
        "code": spec.code,
        "name": spec.name,
        "category": spec.category,
        "applicant": spec.applicant,
        "applicant_label": APPLICANT_LABELS[spec.applicant],
        "time_limit": duration_label(spec.time_limit),
        "version": version,
        "description": spec.description,
    }


def detail(spec: MatterSpec, version: int) -> dict:
    wf = spec.workflow
    return {
        **summary(spec, version),
        "department": spec.body.department,
        "level": spec.body.level,
        "level_label": LEVEL_LABELS[spec.body.level],
        "legal_basis": list(spec.legal_basis),
        "fees": [fee.model_dump() for fee in spec.fees],
        "keywords": list(spec.keywords),
        "staff_may_file": spec.staff_may_file,
        "fields": [field_out(f) for f in spec.fields],
        "materials": [
            {
                "key": m.key,
                "name": m.name,
                "required": m.required,
                "types": list(m.types),
                "max_size_mb": m.max_size_mb,
                "description": m.description,
                "copies": m.copies,
            }
            for m in spec.materials
        ],
        "start": wf.start,
        "states": [
            {
                "key": key,
                "label": st.label,
                "role": st.role,
                "level": st.level,
                "time_limit": duration_label(st.time_limit),
                "final": st.final,
                "outcome": st.outcome,
                "sign_mode": st.sign.mode if st.sign else None,
                "sign_roles": list(st.sign.roles) if st.sign else [],
            }
            for key, st in wf.states.items()
        ],
        "actions": [
            {
                "key": key,
                "label": a.label,
                "kind": a.kind,
                "from_states": list(a.from_),
                "to": a.to,
                "back_to": list(a.back_to or ()),
                "by": list(a.by) if a.by else None,
                "comment": a.comment,
                "edits": list(a.edits),
                "inputs": [field_out(f) for f in a.inputs],
                "max_extension": duration_label(a.max_extension),
            }
            for key, a in wf.actions.items()
        ],
        "certificates": [
            {"key": c.key, "name": c.name, "on": c.on} for c in spec.outputs.certificates
        ],
    }


@router.get(
    "/matters",
    response={200: list[MatterSummary], **documented(400, 503)},
    summary="事项清单",
    description="当前可申请的全部事项（无需登录）。",
)
def list_matters(request, category: str | None = Query(None, max_length=50)):
    out = []
    for version in catalog.current_versions():
        spec = catalog.spec_of(version)
        if category and spec.category != category:
            continue
        out.append(summary(spec, version.version))
    return out


@router.get(
    "/matters/{code}",
    response={200: MatterDetail, **documented(404, 503)},
    summary="事项详情",
    description="事项的公开说明：申请字段（类型、是否必填、选项）、材料、环节和动作（无需登录）。",
)
def get_matter(request, code: str):
    version = catalog.current_version(code)
    return detail(catalog.spec_of(version), version.version)
