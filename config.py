"""Site configuration: Flask's convention of a configuration file, a Python file
whose upper-case names are settings. The server reads it from the working directory
(or from CHAT_CONFIG_FILE); environment variables override it. Every setting is here
at its default, commented out; the README's configuration section explains them.
Generated from chat/settings.py by `make docs`.
"""

# development (what make run sets), testing or production (or NODE_ENV)
# CHAT_ENV = 'production'

# where gunicorn listens (chat/gunicorn_conf.py)
# HOST = '0.0.0.0'

# the port gunicorn listens on
# PORT = 5000

# make run only: server processes to start (one per core), on PORT, PORT+1, ... over
# the local Redis; gunicorn itself keeps one worker per process
# WEB_CONCURRENCY = 1

# database; the path names the database; required in production
# MONGODB_URI = None

# Redis for readiness, the Socket.IO message queue, presence, limits and the room
# cache feed
# REDIS_URL = None

# message queue that links Socket.IO processes: Redis (redis://, rediss://) or
# RabbitMQ (amqp://, amqps://)
# SOCKETIO_MESSAGE_QUEUE = None

# Flask secret (also signs login device tokens), >= 32 bytes; required in production
# SECRET_KEY = None

# HS256 key, >= 32 bytes, distinct from SECRET_KEY; required in production (or
# JWT_SECRET)
# JWT_SECRET_KEY = None

# reverse proxies in front (Heroku's router, nginx: 1); the client address and scheme
# come from the entries those hops add to X-Forwarded-For/-Proto, never from ones a
# client wrote
# PROXY_HOPS = 0

# bearer token for GET /metrics; production without one serves no metrics (404)
# METRICS_TOKEN = None

# least level logged (every logger: JSON lines on standard error)
# LOG_LEVEL = 'INFO'

# gunicorn's access log (method, path without query, status, size, ms), as JSON lines
# like every other log
# ACCESS_LOG = True

# access-token lifetime in seconds (refresh tokens: 30 days)
# JWT_ACCESS_TOKEN_EXPIRES = 900

# comma-separated origin allowlist; * is refused in production
# SOCKET_CORS_ORIGIN = []

# gevent, threading or eventlet (compatibility only)
# CHAT_ASYNC_MODE = 'gevent'

# maximum message length in characters
# MESSAGE_MAX_LENGTH = 4000

# maximum request body in bytes (413 beyond)
# MAX_CONTENT_LENGTH = 1048576

# how long a request waits for an unreachable database (or a free pooled connection)
# before 503
# MONGODB_TIMEOUT_MS = 5000

# database connections per process (plus 2 for the group commit); beyond it callers
# wait. Small on purpose: concurrent sends and room reads are combined into one
# operation
# MONGODB_MAX_POOL_SIZE = 10

# Redis connections per process; beyond it callers wait (up to 2 s) for a free one
# REDIS_MAX_CONNECTIONS = 50

# REST requests per user (or address), all routes
# RATELIMIT_DEFAULT = '240 per minute'

# register, login and refresh per address
# RATELIMIT_AUTH = '30 per minute'

# who may make an account: open (anyone), invite (only with a valid invite link, POST
# /api/invites), closed (nobody over the API; flask users create makes accounts)
# REGISTRATION = 'open'

# comma-separated email domains new accounts may use (example.com allows that domain
# and no other, not its subdomains); empty: any
# ALLOWED_EMAIL_DOMAINS = []

# failed logins for one account from one address (or one known device) before that
# client waits
# LOGIN_MAX_FAILURES = 5

# failed logins for one account from all clients that never signed in to it before
# they wait (never a lockout of the owner's known devices)
# LOGIN_ACCOUNT_MAX_FAILURES = 20

# first wait after too many failed logins, doubling up to 15 min
# LOGIN_LOCK_SECONDS = 30

# socket events of every kind per second per user (all processes)
# SOCKET_EVENT_RATE = 20.0

# burst of socket events per user
# SOCKET_EVENT_BURST = 60

# socket sends per second per user (all processes), within the event budget
# SOCKET_SEND_RATE = 10.0

# burst of socket sends per user
# SOCKET_SEND_BURST = 30

# live sockets per user, all processes together
# SOCKET_MAX_PER_USER = 20

# live sockets per process (gunicorn's worker_connections is this plus 1,000 for REST)
# SOCKET_MAX_CONNECTIONS = 20000

# seconds a connection may stay open without joining /chat
# SOCKET_AUTH_TIMEOUT = 5.0

# packets queued for a slow client before it is cut off
# SOCKET_MAX_QUEUE = 500

# refusals not made up by accepted events before a socket is disconnected
# SOCKET_ABUSE_LIMIT = 50

# Socket.IO heartbeat, seconds (below Heroku's 55 s idle cut)
# SOCKET_PING_INTERVAL = 25

# seconds without a heartbeat answer before a socket is dropped
# SOCKET_PING_TIMEOUT = 20

# largest Socket.IO message in bytes; bigger frames close the connection
# SOCKET_MAX_FRAME = 65536

# Redis channel or RabbitMQ exchange of the message queue (one per deployment)
# SOCKETIO_CHANNEL = 'chat-socketio'

# prefix of every key and channel in Redis
# REDIS_PREFIX = 'chat'

# seconds before an unrefreshed typing indicator ends
# TYPING_TIMEOUT = 5

# most seconds a process serves a room to sends from memory (a write straight to the
# database, outside the server, is seen by then); any room write drops it on every
# process at once (Redis pub/sub), and nothing is cached while that feed is down; 0
# turns the cache off
# ROOM_CACHE_SECONDS = 60.0

# seconds of silence after which a process's sockets are presumed gone
# PRESENCE_PROCESS_TTL = 15

# SMTP server for every email (password resets, the notifications plugin's); unset:
# none is sent (a reset logs an error)
# SMTP_HOST = ''

# SMTP port
# SMTP_PORT = 25

# true: STARTTLS before sending
# SMTP_STARTTLS = False

# SMTP login (none when empty)
# SMTP_USER = ''

# SMTP password
# SMTP_PASSWORD = ''

# the From address of account email
# MAIL_FROM = 'chat@localhost'

# link in a reset email, {token} replaced by the token (e.g.
# https://chat.example.com/#reset={token}); empty: the email carries the token itself
# PASSWORD_RESET_URL = ''

# how long a password-reset token works
# PASSWORD_RESET_MINUTES = 30

# purge message bodies and files older than this many days to tombstones (0: keep
# them); a room's retentionDays overrides it
# MESSAGE_RETENTION_DAYS = 0

# days changes are kept for GET /api/sync and sync_all; an older cursor gets 410
# sync_expired
# SYNC_RETENTION_DAYS = 30

# the server's address as clients reach it (e.g. https://chat.example.com), which
# incoming webhook URLs and invite links start with; empty: they are given as paths
# (never taken from a request's Host header)
# PUBLIC_URL = ''

# comma-separated hosts, addresses or networks (10.0.0.0/8) outgoing webhooks and push
# endpoints may reach although private, loopback or link-local (refused otherwise)
# WEBHOOK_ALLOWED_HOSTS = []

# attempts per webhook delivery before it is dead-lettered
# WEBHOOK_MAX_ATTEMPTS = 15

# first retry delay of a failed webhook delivery; it doubles each attempt
# WEBHOOK_RETRY_SECONDS = 5.0

# longest delay between attempts
# WEBHOOK_RETRY_MAX_SECONDS = 3600.0

# seconds a webhook receiver has to answer
# WEBHOOK_TIMEOUT = 10.0

# true: pushes carry the message's sender, room name and text; otherwise only ids (the
# app fetches the rest)
# PUSH_INCLUDE_CONTENT = False

# Web Push: the server's P-256 key (PEM, or base64url of the raw 32 bytes); unset: no
# Web Push
# VAPID_PRIVATE_KEY = ''

# Web Push: the contact in each VAPID claim (mailto: or https:)
# VAPID_SUBJECT = 'mailto:admin@localhost'

# FCM HTTP v1: path of the service account JSON (its project_id, client_email,
# private_key, token_uri); unset: no FCM
# FCM_CREDENTIALS = ''

# FCM HTTP v1 base URL
# FCM_URL = 'https://fcm.googleapis.com'

# APNs: path of the .p8 signing key; unset: no APNs
# APNS_KEY_FILE = ''

# APNs: the key's id (the JWT kid)
# APNS_KEY_ID = ''

# APNs: the team id (the JWT iss)
# APNS_TEAM_ID = ''

# APNs: the app's bundle id (apns-topic)
# APNS_TOPIC = ''

# APNs base URL (HTTP/2; https://api.sandbox.push.apple.com for development builds)
# APNS_URL = 'https://api.push.apple.com'

# comma-separated plugin names to load
# CHAT_PLUGINS = None

# comma-separated plugin names never to load
# CHAT_PLUGINS_BLOCKED = []

# false: load only the plugins named in CHAT_PLUGINS
# CHAT_PLUGINS_AUTOLOAD = True

# a folder of local plugins (packages or modules)
# CHAT_PLUGINS_DIR = None

# JSON object: per-plugin settings, e.g. file storage (local/S3), webhook and SMTP
# settings
# CHAT_PLUGIN_CONFIG = {}
