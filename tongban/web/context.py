"""Template context: what the navigation needs to know about the user."""

from tongban.services import requests as citizen_requests
from tongban.services.errors import ServiceError
from tongban.services.reports import home_work, resumption
from tongban.services.stats import SUPERVISING_ROLES
from tongban.store.models import Membership


def nav(request):
    user = request.user
    if not user.is_authenticated:
        return {"nav": {}}
    roles = set(Membership.objects.filter(user_id=user.pk).values_list("role", flat=True))
    profile = getattr(user, "profile", None)
    name = (profile.display_name if profile else "") or user.get_full_name() or user.username
    return {
        "nav": {
            "worker": bool(roles),
            "supervisor": bool(roles & set(SUPERVISING_ROLES)),
            # the roles each report page lets in (its service's scope_for / may_view)
            "resumption": bool(roles & set(resumption.VIEWING_ROLES)),
            "home_work": bool(roles & set(home_work.VIEWING_ROLES)),
            "requests": _handles_requests(roles),
            "name": name,
        }
    }


def _handles_requests(roles: set[str]) -> bool:
    """Dispatchers and the departments requests are dispatched to: the 诉求 pages let them in."""
    if "dispatcher" in roles:
        return True
    if not roles:
        return False
    try:
        return bool(roles & set(citizen_requests.department_options()))
    except ServiceError:  # no request matter in this deployment's catalogue
        return False
