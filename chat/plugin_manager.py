"""Build the pluggy manager for an app: the default plugin, installed packages' entry
points (the built-in plugins of plugins/ are such packages), a local folder.

Config (see README):
    CHAT_PLUGINS           names to load (default: every one found)
    CHAT_PLUGINS_BLOCKED   names never to load
    CHAT_PLUGINS_AUTOLOAD  False: load only the names in CHAT_PLUGINS
    CHAT_PLUGINS_DIR       a folder of local plugins (default: none)
    CHAT_PLUGIN_CONFIG     {"plugin name": {settings}} for plugins to read
"""

import functools
import importlib
import importlib.metadata
import importlib.util
import logging
import sys
import time
from pathlib import Path

import pluggy
from flask import Flask, current_app

from chat import hookspecs
from chat.errors import ChatError

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "chat.plugins"
DEFAULT_PLUGINS = ("chat.default_plugins",)


def _wanted(name: str, settings: dict) -> bool:
    enabled, blocked = settings["CHAT_PLUGINS"], settings["CHAT_PLUGINS_BLOCKED"]
    if name in blocked:
        return False
    if enabled is not None:
        return name in enabled
    return settings["CHAT_PLUGINS_AUTOLOAD"]


def _folder_modules(folder: Path) -> dict[str, Path]:
    """Plugin name -> path, for packages and single modules in the folder."""
    found = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith(("_", ".")):
            continue
        if (path / "__init__.py").exists():
            found[path.name] = path / "__init__.py"
        elif path.suffix == ".py":
            found[path.stem] = path
    return found


def _import_folder_plugin(name: str, path: Path):
    module_name = f"chat_local_plugins.{name}"
    locations = [str(path.parent)] if path.name == "__init__.py" else None
    spec = importlib.util.spec_from_file_location(
        module_name, path, submodule_search_locations=locations
    )
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


# Hooks that run while serving: each implementation runs alone inside pluggy's own
# call (see Isolating). The value is what a failure means: an exception type that
# passes through (a plugin's refusal), or the answer a failing implementation gives.
ISOLATED: dict[str, tuple[type[Exception], ...] | bool] = {
    "validate_message": (ChatError,),  # a ChatError rejects the message
    "extend_message": (),
    "track_event": (),
    "permission_allowed": False,  # a broken rule denies: never fail open
}


class Isolating(pluggy.PluginManager):
    """A PluginManager whose serving-time hook implementations are wrapped as they are
    registered: pluggy calls them as usual (order, firstresult, monitoring), and one
    that raises is logged and counted, then skipped (or answers for a rule), so one
    plugin cannot break another or the core. Metrics are per implementation."""

    metrics = None  # the app's, set by build()

    def register(self, plugin, name=None):
        name = super().register(plugin, name)
        for caller in self.get_hookcallers(plugin) or []:
            if caller.name in ISOLATED:
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                        impl.function = self._isolated(impl.function, caller.name, name)
        return name

    def _isolated(self, function, hook: str, plugin: str):
        failure, metrics = ISOLATED[hook], self.metrics
        # the labelled series of the usual outcome, looked up once (a send calls hooks)
        latency = metrics.hook_latency.labels(hook) if metrics else None
        succeeded = metrics.hook_calls.labels(hook, "ok") if metrics else None

        def count(start: float, outcome: str = "ok") -> None:
            if metrics is not None:
                latency.observe(time.perf_counter() - start)
                calls = succeeded if outcome == "ok" else metrics.hook_calls.labels(hook, outcome)
                calls.inc()

        @functools.wraps(function)
        def run(*args):
            start = time.perf_counter()
            try:
                result = function(*args)
            except Exception as exc:
                if isinstance(failure, tuple) and isinstance(exc, failure):
                    count(start, getattr(exc, "code", "error"))  # a refusal: its error code
                    raise
                log.exception("plugin %s failed in %s", plugin, hook)
                count(start, "error")
                return failure if isinstance(failure, bool) else None
            count(start)
            return result

        return run


def build(app: Flask) -> pluggy.PluginManager:
    """A manager with every wanted plugin registered under its name."""
    settings = app.config
    pm = Isolating("chat")
    pm.metrics = app.extensions["metrics"]
    pm.add_hookspecs(hookspecs)
    for module in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module), name=module)
    entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in sorted(entry_points, key=lambda ep: ep.name):  # the same order everywhere
        if _wanted(ep.name, settings) and not pm.has_plugin(ep.name):
            pm.register(ep.load(), name=ep.name)
    folder = settings.get("CHAT_PLUGINS_DIR")
    for name, path in _folder_modules(Path(folder)).items() if folder else ():
        if _wanted(name, settings) and not pm.has_plugin(name):
            pm.register(_import_folder_plugin(name, path), name=name)
    pm.check_pending()
    # every permission_allowed but the core's (asked last, see permission)
    app.extensions["plugin_rules"] = pm.subset_hook_caller(
        "permission_allowed", remove_plugins=[pm.get_plugin(CORE_RULES)]
    )
    return pm


def plugin_manager() -> pluggy.PluginManager:
    return current_app.extensions["plugins"]


def plugin_config(name: str, app: Flask | None = None) -> dict:
    """The settings CHAT_PLUGIN_CONFIG holds for plugin `name` (empty when none), in
    `app` (default: the current one)."""
    return dict((app or current_app).config["CHAT_PLUGIN_CONFIG"].get(name, {}))


def call(hook_name: str, **kwargs) -> list:
    """Call a hook of the current app's plugins (with `app`): the non-None results, in
    pluggy's order. Serving-time hooks are isolated (see Isolating)."""
    kwargs.setdefault("app", current_app._get_current_object())  # type: ignore[attr-defined]
    return getattr(plugin_manager().hook, hook_name)(**kwargs)


CORE_RULES = "chat.default_plugins"  # its permission_allowed holds the core's rules


def permission(actor, action: str, room, resource=None, default: bool = False) -> bool:
    """May `actor` do `action`? The plugins' permission_allowed answers first: any False
    denies, else any True allows. Without an answer, the core's rules decide (the
    default plugin's permission_allowed), and for an action they do not know, `default`.
    """
    pm = plugin_manager()
    args = {"actor": actor, "action": action, "room": room, "resource": resource}
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    answers = current_app.extensions["plugin_rules"](app=app, **args)
    if False in answers:
        return False
    if True in answers:
        return True
    core = pm.get_plugin(CORE_RULES).permission_allowed(**args)  # type: ignore[union-attr]
    return default if core is None else core


def loaded_plugins(pm: pluggy.PluginManager) -> list[dict]:
    """[{name, hooks, version?}] for `flask plugins list`."""
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append({"name": name, "hooks": hooks, "module": getattr(plugin, "__name__", "")})
    return rows
