"""Build the pluggy manager for an app: the default plugin, the built-in plugins of
the package (`chat.plugins`), installed packages' entry points, a local folder.

Config (see README):
    CHAT_PLUGINS           names to load (default: every one found)
    CHAT_PLUGINS_BLOCKED   names never to load
    CHAT_PLUGINS_AUTOLOAD  False: load only the names in CHAT_PLUGINS
    CHAT_PLUGINS_DIR       a folder of local plugins (default: none)
    CHAT_PLUGIN_CONFIG     {"plugin name": {settings}} for plugins to read
"""

import importlib
import importlib.metadata
import importlib.util
import logging
import sys
import threading
import time
from pathlib import Path

import pluggy
from flask import Flask, current_app

from chat import hookspecs
from chat.errors import ChatError

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "chat.plugins"
DEFAULT_PLUGINS = ("chat.default_plugins",)
BUILT_IN = ("reactions", "file_sharing", "notifications")  # chat.plugins.<name>


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
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def build(app: Flask) -> pluggy.PluginManager:
    """A manager with every wanted plugin registered under its name."""
    settings = app.config
    pm = pluggy.PluginManager("chat")
    pm.add_hookspecs(hookspecs)
    for module in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module), name=module)
    for name in BUILT_IN:
        if _wanted(name, settings):
            pm.register(importlib.import_module(f"chat.plugins.{name}"), name=name)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if _wanted(ep.name, settings) and not pm.has_plugin(ep.name):
            pm.register(ep.load(), name=ep.name)
    folder = settings.get("CHAT_PLUGINS_DIR")
    for name, path in _folder_modules(Path(folder)).items() if folder else ():
        if _wanted(name, settings) and not pm.has_plugin(name):
            pm.register(_import_folder_plugin(name, path), name=name)
    pm.check_pending()
    _monitor(pm, app)
    # every permission_allowed but the core's (asked last, see permission)
    app.extensions["plugin_rules"] = pm.subset_hook_caller(
        "permission_allowed", remove_plugins=[pm.get_plugin(CORE_RULES)]
    )
    return pm


def _monitor(pm: pluggy.PluginManager, app: Flask) -> None:
    """Per-hook call counts and durations in /metrics (for hooks called through pluggy)."""
    local = threading.local()  # green-thread local under gevent
    metrics = app.extensions["metrics"]

    def before(hook_name, hook_impls, kwargs):
        local.__dict__.setdefault("starts", []).append(time.perf_counter())

    def after(outcome, hook_name, hook_impls, kwargs):
        elapsed = time.perf_counter() - local.starts.pop()
        metrics.hook_latency.labels(hook_name).observe(elapsed)
        failed = outcome.exception is not None
        metrics.hook_calls.labels(hook_name, "error" if failed else "ok").inc()

    pm.add_hookcall_monitoring(before, after)


def plugin_manager() -> pluggy.PluginManager:
    return current_app.extensions["plugins"]


def plugin_config(name: str, app: Flask | None = None) -> dict:
    """The settings CHAT_PLUGIN_CONFIG holds for plugin `name` (empty when none), in
    `app` (default: the current one)."""
    return dict((app or current_app).config["CHAT_PLUGIN_CONFIG"].get(name, {}))


def call_isolated(hook_name: str, reraise: tuple = (), **kwargs) -> list:
    """Call each implementation on its own: a failure is logged and skipped
    (unless it is one of `reraise`), so one plugin cannot break another or the core.

    Returns:
        the non-None results, in pluggy's call order.
    """
    metrics = current_app.extensions["metrics"]
    kwargs.setdefault("app", current_app._get_current_object())
    results = []
    for impl in reversed(getattr(plugin_manager().hook, hook_name).get_hookimpls()):
        start = time.perf_counter()
        outcome = "error"
        try:
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            outcome = "ok"
        except reraise:
            raise
        except Exception:
            log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)
            continue
        finally:
            metrics.hook_latency.labels(hook_name).observe(time.perf_counter() - start)
            metrics.hook_calls.labels(hook_name, outcome).inc()
        if result is not None:
            results.append(result)
    return results


def validate_message(**kwargs) -> None:
    """validate_message: a ChatError rejects the message; other errors are logged."""
    call_isolated("validate_message", reraise=(ChatError,), **kwargs)


CORE_RULES = "chat.default_plugins"  # its permission_allowed holds the core's rules


def permission(actor, action: str, room, resource=None, default: bool = False) -> bool:
    """May `actor` do `action`? The plugins' permission_allowed answers first: any False
    denies, else any True allows. Without an answer, the core's rules decide (the
    default plugin's permission_allowed), and for an action they do not know, `default`.
    """
    pm = plugin_manager()
    args = {"actor": actor, "action": action, "room": room, "resource": resource}
    app = current_app._get_current_object()
    answers = current_app.extensions["plugin_rules"](app=app, **args)
    if False in answers:
        return False
    if True in answers:
        return True
    core = pm.get_plugin(CORE_RULES).permission_allowed(**args)
    return default if core is None else core


def loaded_plugins(pm: pluggy.PluginManager) -> list[dict]:
    """[{name, hooks, version?}] for `flask plugins list`."""
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append({"name": name, "hooks": hooks, "module": getattr(plugin, "__name__", "")})
    return rows
