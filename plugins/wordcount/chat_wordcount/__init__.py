"""chat-wordcount: an example plugin installed from its own package (entry point
`chat.plugins` -> `wordcount`). It adds `wordCount` to every serialized message.
"""

from marshmallow import fields

from chat.plugin_api import hookimpl


@hookimpl
def extend_message(message):
    return {"wordCount": len(message.content.split())}


@hookimpl
def message_fields():
    return {"wordCount": fields.Integer(metadata={"description": "words in the content"})}
