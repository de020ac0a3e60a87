"""Small helpers shared by the REST views."""

from functools import wraps

import flask_smorest
from flask_jwt_extended import current_user, jwt_required
from webargs.flaskparser import FlaskParser

BEARER = [{"bearerAuth": []}]


class StrictParser(FlaskParser):
    """Query strings obey the schema's `unknown=RAISE` too (webargs excludes by default)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None}


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint with the strict argument parser."""

    ARGUMENTS_PARSER = StrictParser()


def login_required(fn):
    """Require a valid, unrevoked access token; the view gets `actor` (the User)."""

    @wraps(fn)
    @jwt_required()
    def wrapper(*args, **kwargs):
        return fn(*args, actor=current_user, **kwargs)

    return wrapper
