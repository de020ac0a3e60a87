"""The domain layer: plain typed functions taking an actor and validated data."""
