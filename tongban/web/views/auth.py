"""Login with throttling; the demo account list only when TONGBAN_DEMO=1.

The throttle itself is enforced and recorded by services.auth.ThrottledModelBackend, for
every login path; the forms here check it first only to say so clearly (and the site's
login page answers 429)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from tongban.services import auth
from tongban.web.views.common import client_ip


class ThrottledFormMixin:
    """Refuse a locked username or address before the password is checked."""

    def clean(self):
        username = self.cleaned_data.get("username") or self.data.get("username", "")
        ip = client_ip(self.request) if self.request is not None else None
        if auth.throttled(username, ip):
            raise ValidationError(auth.LOCKED_MESSAGE, code="throttled")
        return super().clean()


class ThrottledAuthenticationForm(ThrottledFormMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledFormMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        status = 429 if form.has_error(NON_FIELD_ERRORS, "throttled") else 200
        return self.render_to_response(self.get_context_data(form=form), status=status)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if settings.DEMO:
            from tongban.services.demo import DEMO_PASSWORD, demo_accounts

            ctx["demo_accounts"] = demo_accounts()
            ctx["demo_password"] = DEMO_PASSWORD
        return ctx
