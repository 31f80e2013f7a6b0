"""Supervision dashboard (督办)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def dashboard(request):
    return render(request, "supervise/dashboard.html", {})
