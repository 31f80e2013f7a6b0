"""Who is calling: an API token (`tongban token create USER`), or — for reading only — the
session of a signed-in browser user.

Writes accept tokens only. A session cookie is sent by the browser on its own, so
accepting it for POST would need CSRF checks; reading is safe without them."""

from ninja.security import HttpBearer, SessionAuth

from tongban.services import auth


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`."""

    def authenticate(self, request, token: str):
        return auth.user_for_token(token.strip())


class ReadSession(SessionAuth):
    """The Django session, for GET (and HEAD) requests only."""

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request, key):
        if request.method not in ("GET", "HEAD"):
            return None
        return super().authenticate(request, key)


WRITE = [BearerToken()]
READ = [BearerToken(), ReadSession()]
