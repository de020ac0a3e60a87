"""The live layer, under the services: what only connected sockets need. Publishing
events to sockets (publish), the sockets of this process and their state (sockets),
the presence registry (presence), the socket a piece of work came from (origin), the
per-user event budgets (limits), the room cache and its cross-process invalidation
feed (roomcache), and the per-process upkeep loop (upkeep)."""
