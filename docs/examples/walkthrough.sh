#!/usr/bin/env bash
# A walk through the REST API with curl: two users, a private room, 250 messages paged
# back in order, an edit and a delete. Run it against `make run`:
#   bash docs/examples/walkthrough.sh            (BASE defaults to http://127.0.0.1:5000)
# The test suite runs this very script against a real server.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:5000}
N=${N:-$RANDOM}   # makes the usernames unique, so the script can run more than once

json() { python3 -c "import sys, json; d = json.load(sys.stdin); print($1)"; }
call() {  # call METHOD PATH TOKEN [JSON]
  curl -sS --fail-with-body -X "$1" "$BASE$2" -H "Authorization: Bearer $3" \
    -H 'Content-Type: application/json' ${4:+-d "$4"}
}
register() {
  curl -sS --fail-with-body -X POST "$BASE/api/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1$N\", \"email\": \"$1$N@example.com\", \"password\": \"correct horse\"}"
}

# 1. Two users register; each answer carries the user and an access token.
ALICE=$(register alice | json 'd["accessToken"]')
BOB_SESSION=$(register bob)
BOB=$(echo "$BOB_SESSION" | json 'd["accessToken"]')
BOB_ID=$(echo "$BOB_SESSION" | json 'd["user"]["id"]')

# 2. Alice creates a private room and invites Bob.
ROOM=$(call POST /api/rooms "$ALICE" '{"name": "project", "settings": {"isPrivate": true}}' \
  | json 'd["id"]')
call POST "/api/rooms/$ROOM/members" "$ALICE" "{\"userId\": \"$BOB_ID\"}" > /dev/null

# 3. Both post: 250 messages, each with a clientId so a retry could never double it.
for i in $(seq 1 250); do
  if (( i % 2 )); then TOKEN=$ALICE; else TOKEN=$BOB; fi
  call POST /api/messages "$TOKEN" \
    "{\"roomId\": \"$ROOM\", \"content\": \"message $i\", \"clientId\": \"m-$i\"}" > /dev/null
done

# 4. Bob pages back through the history, 100 at a time, oldest first within a page.
PAGE=$(call GET "/api/messages/$ROOM?limit=100" "$BOB")
SEEN=$(echo "$PAGE" | json 'len(d["messages"])')
while [ "$(echo "$PAGE" | json 'd["hasMore"]')" = "True" ]; do
  OLDEST=$(echo "$PAGE" | json 'd["messages"][0]["id"]')
  PAGE=$(call GET "/api/messages/$ROOM?limit=100&before=$OLDEST" "$BOB")
  SEEN=$((SEEN + $(echo "$PAGE" | json 'len(d["messages"])')))
done
FIRST=$(echo "$PAGE" | json 'd["messages"][0]["content"]')
echo "bob paged back through $SEEN messages; the first one says: $FIRST"

# 5. Alice edits her first message, then deletes it (a tombstone stays in history).
FIRST_ID=$(echo "$PAGE" | json 'd["messages"][0]["id"]')
call PATCH "/api/messages/$FIRST_ID" "$ALICE" '{"content": "message 1 (edited)"}' \
  | json '"edited:", d["edited"], d["content"]'
call DELETE "/api/messages/$FIRST_ID" "$ALICE"
call GET "/api/messages/$ROOM?limit=1&after=$FIRST_ID" "$BOB" > /dev/null
call GET "/api/messages/$ROOM?limit=100" "$BOB" | json '"latest:", d["messages"][-1]["content"]'
echo "done"
