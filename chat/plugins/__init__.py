"""Built-in plugins: each package here is a plugin (see chat.plugin_manager.BUILT_IN)."""
