"""The live layer, under the services: what only connected sockets need. Publishing
events to sockets (publish), the presence registry, the socket a piece of work came
from (origin), and the per-user event budgets (limits)."""
