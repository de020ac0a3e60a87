"""Small helpers shared by the REST views."""

from functools import wraps

from flask_jwt_extended import current_user, jwt_required

BEARER = [{"bearerAuth": []}]


def login_required(fn):
    """Require a valid, unrevoked access token; the view gets `actor` (the User)."""

    @wraps(fn)
    @jwt_required()
    def wrapper(*args, **kwargs):
        return fn(*args, actor=current_user, **kwargs)

    return wrapper
