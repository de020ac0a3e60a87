"""Complete sync over REST: GET /api/sync."""

from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.schemas.base import ErrorEnvelopeSchema
from chat.schemas.sync import SyncOut, SyncQuery
from chat.services.sync import sync as changes_since

bp = Blueprint("sync", __name__, url_prefix="/api/sync", description="Complete sync")


@bp.get("")
@bp.doc(security=BEARER)
@login_required(action="sync")
@bp.arguments(SyncQuery, location="query")
@bp.response(200, SyncOut)
@bp.alt_response(
    410, schema=ErrorEnvelopeSchema, description="`sync_expired`: sync again without `since`."
)
def sync(query, actor):
    """Every change in your rooms after the cursor `since`, once each, in `rev` order per
    room, with `room_added` / `room_removed`; without `since`, just the current cursor.
    Call again with the returned cursor while `hasMore`. A cursor older than
    SYNC_RETENTION_DAYS is 410 `sync_expired`."""
    return changes_since(actor, query["since"], query["limit"])
