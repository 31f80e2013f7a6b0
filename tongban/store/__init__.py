"""Persistence: Django models, migrations and query helpers. No use-case logic here."""
