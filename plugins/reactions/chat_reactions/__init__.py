"""Reactions plugin: emoji reactions on messages over REST and Socket.IO.

REST  POST /api/messages/:id/reactions {emoji}, DELETE /api/messages/:id/reactions/:emoji
Socket add_reaction / remove_reaction {messageId, emoji}; the room gets reaction_updated.
"""

from marshmallow import fields

from chat.plugin_api import hookimpl

from . import api, service, sockets


@hookimpl
def register_blueprints(app):
    return [api.bp]


@hookimpl
def message_changes():
    return ["reaction_updated"]  # synced with the message's reactions as its data


@hookimpl
def register_actions():
    return service.ACTIONS


@hookimpl
def register_socket_events(socketio, namespace):
    sockets.register()


@hookimpl
def extend_message(message):
    return {"reactions": service.reactions(message), "reactionCounts": service.counts(message)}


@hookimpl
def message_fields():
    listed = fields.List(fields.Nested(service.ReactionOut), required=True)
    listed.metadata["description"] = "who reacted with which emoji, oldest first"
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    counts.metadata["description"] = "emoji -> how many reacted with it"
    return {"reactions": listed, "reactionCounts": counts}
