"""The JSON API (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from tongban.web.api import cases, certificates, errors, matters, requests, uploads, work

DESCRIPTION = """\
通办的 JSON 接口：与网页相同的服务、规则和错误。

**认证**：`Authorization: Bearer <令牌>`，令牌用 `tongban token create 用户名` 创建（只显示一次）。
已登录网页的浏览器也可以用会话读取（仅 GET）。事项清单和事项详情无需认证。

**错误**：所有错误都是同一个形状 `{"code", "message", "fields"}`：message 是中文说明，
fields 逐字段说明错在哪里（400）。401 未认证，403 无权办理，404 不存在或不在查看范围内，
409 状态冲突（expected_version 过期时 code 为 `stale`），413 太大，503 数据库暂时不可用。
"""


class Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="通办 API",
    version="1",
    urls_namespace="api",
    description=DESCRIPTION,
    renderer=Renderer(),
)
errors.install(api)
api.add_router("", matters.router)
api.add_router("", cases.router)
api.add_router("", work.router)
api.add_router("", uploads.router)
api.add_router("", requests.router)
api.add_router("", certificates.router)
