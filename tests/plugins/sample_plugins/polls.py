"""A poll plugin written against chat.plugin_api alone, to show the core is open to it:
a message type of its own (`poll`), a kind of change of its own (`poll_voted`, synced
once like the core's), actions the one policy decides, and its data in the message's
`data` (the messaging work builds the real one on the same hooks)."""

from marshmallow import fields, validate

from chat.plugin_api import (
    BEARER,
    Action,
    Blueprint,
    Conflict,
    MessageOut,
    ObjectIdField,
    Schema,
    Text,
    ValidationError,
    change_message,
    get_message,
    hookimpl,
    login_required,
    post_message,
    serialize_message,
)

bp = Blueprint("polls", __name__, url_prefix="/api/polls", description="Polls (a sample)")


class PollIn(Schema):
    roomId = ObjectIdField(required=True)
    question = Text(required=True, validate=validate.Length(min=1, max=200))
    options = fields.List(
        Text(validate=validate.Length(min=1, max=50)), required=True,
        validate=validate.Length(min=2, max=10),
    )  # fmt: skip


class VoteIn(Schema):
    option = fields.Integer(required=True, strict=True)


@bp.post("")
@bp.doc(security=BEARER)
@login_required(action="create_poll")
@bp.arguments(PollIn)
@bp.response(201, MessageOut)
def create_poll(data, actor):
    """Ask the room a question."""
    poll = {"options": data["options"], "votes": {}}
    posted = post_message(
        actor, data["roomId"], data["question"], message_type="poll", data={"poll": poll}
    )
    return posted.wire  # the message, as the room received it


@bp.post("/<message_id>/votes")
@bp.doc(security=BEARER)
@login_required(action="vote")
@bp.arguments(VoteIn)
@bp.response(200, MessageOut)
def vote(data, message_id, actor):
    """Vote (again, to change one's vote)."""
    message, _room = get_message(actor, message_id, "vote")
    if message.message_type != "poll" or message.deleted:
        raise Conflict("Not a poll.")
    if not 0 <= data["option"] < len(message.data["poll"]["options"]):
        raise ValidationError(fields={"option": ["No such option."]})
    change_message(message, "poll_voted", {"$set": {f"data.poll.votes.{actor.id}": data["option"]}})
    return serialize_message(message)


@hookimpl
def register_blueprints(app):
    return [bp]


@hookimpl
def message_types(app):
    return ["poll"]


@hookimpl
def message_changes(app):
    return ["poll_voted"]


@hookimpl
def register_actions(app):
    return [
        Action("create_poll", "messages:write", "member", summary="ask the room a question"),
        Action("vote", "messages:write", "member", summary="vote in a poll"),
    ]


@hookimpl
def extend_message(message):
    if message.message_type != "poll" or "poll" not in message.data:
        return None
    poll = message.data["poll"]
    tally = [0] * len(poll["options"])
    for choice in poll["votes"].values():
        tally[choice] += 1
    return {"poll": {"options": poll["options"], "tally": tally}}
