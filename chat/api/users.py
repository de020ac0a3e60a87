"""Users over REST: the caller's own profile."""

from chat.api.common import BEARER, Blueprint, login_required
from chat.schemas.auth import UserOut
from chat.services.users import serialize_user

bp = Blueprint("users", __name__, url_prefix="/api/users", description="Users")


@bp.get("/me")
@bp.doc(security=BEARER)
@bp.response(200, UserOut)
@login_required
def me(actor):
    """The caller's profile, with their email."""
    return serialize_user(actor, private=True)
