"""The policy: a webhook's bot is no person's (services/principals). Bots made before
were owned by the webhook's creator, who could mint tokens for them: they lose their
owner, and any token minted for them ends."""


def upgrade(db) -> None:
    bots = [hook["bot"] for hook in db["webhooks"].find({}, {"bot": 1})]
    if not bots:
        return
    db["users"].update_many({"_id": {"$in": bots}}, {"$unset": {"bot_owner": ""}})
    db["api_tokens"].delete_many({"user": {"$in": bots}})
