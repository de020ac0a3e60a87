"""The live layer: what only connected sockets need, under the services: the presence
registry, and the socket a piece of work came from (publishing, limits and upkeep are
to follow)."""
