"""Built-in plugins, and the local plugins folder: each package here is a plugin."""
