"""The JSON API (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI

api = NinjaAPI(title="通办 API", version="1", urls_namespace="api")
