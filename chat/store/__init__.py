"""The storage floor, under the services: how things are kept, not who may do what.

The group commit (commit), combined reads (combine), documents by id (documents), the
rooms' change logs (changelog) and what a message is found by (terms). It imports
models and extensions, never the services, the live layer or the transports.
"""
