"""Template context: what the navigation needs to know about the user."""

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
            "name": name,
        }
    }
