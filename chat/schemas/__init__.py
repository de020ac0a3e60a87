"""Marshmallow schemas: what the API accepts and what it documents."""
