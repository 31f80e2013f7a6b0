"""Login with throttling; the demo account list only when TONGBAN_DEMO=1."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views

from tongban.services import auth
from tongban.web.views.common import client_ip


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        if auth.throttled(username, client_ip(request)):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "登录失败次数过多，请 15 分钟后再试")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        auth.record_failure(self.request.POST.get("username", ""), client_ip(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        auth.clear_failures(form.get_user().get_username())
        return super().form_valid(form)  # django.contrib.auth.login rotates the session key

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if settings.DEMO:
            from tongban.services.demo import DEMO_PASSWORD, demo_accounts

            ctx["demo_accounts"] = demo_accounts()
            ctx["demo_password"] = DEMO_PASSWORD
        return ctx
