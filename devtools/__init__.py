"""Development helpers (not part of the product): local servers for `make run` and tests."""
