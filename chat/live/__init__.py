"""The live layer: what only connected sockets need, under the services (presence
registry now; publishing, limits and upkeep to follow)."""
