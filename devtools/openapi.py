"""`make openapi`: write docs/openapi.json, the REST API as the server serves it at
/api/openapi.json (every built-in plugin loaded). tests/test_openapi_document.py fails
when the committed file and the server disagree."""

import json
import os
import sys

from devtools.servers import ROOT

DOCUMENT = ROOT / "docs" / "openapi.json"


def served() -> dict:
    """The document a testing app serves (no database is contacted)."""
    os.environ.pop("CHAT_PLUGINS_BLOCKED", None)
    from chat import create_app

    app = create_app("testing", MONGODB_URI="mongodb://127.0.0.1:9/openapi", REDIS_URL="")
    return app.test_client().get("/api/openapi.json").get_json()


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(render(served()))
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
