"""Search over REST."""

from chat.api.endpoint import BEARER, Blueprint, login_required
from chat.schemas.messages import SearchOut, SearchQuery
from chat.services import search

bp = Blueprint("search", __name__, url_prefix="/api/search", description="Search")


@bp.get("/messages")
@bp.doc(security=BEARER)
@login_required(action="search_messages")
@bp.arguments(SearchQuery, location="query")
@bp.response(200, SearchOut)
def messages(query, actor):
    """Messages in your rooms matching `q`, newest first. A page may hold fewer than
    `limit` (at most 2,000 candidates are looked at per request): go on with
    `cursor=nextCursor` until it is null."""
    return search.search(actor, **query)
