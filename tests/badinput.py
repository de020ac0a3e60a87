"""Generators of bad request bodies, shared by every endpoint's bad-input tests."""

OPERATORS = [{"$ne": None}, {"$gt": ""}, {"$where": "1"}, ["a", "b"], {"a.b": 1}]
WRONG_TYPES = [None, 12, 1.5, True, [], {}]


def bad_bodies(valid: dict, required: list[str]) -> list[tuple[str, object]]:
    """(label, body) pairs that must all be refused with a 4xx and change nothing."""
    cases: list[tuple[str, object]] = []
    for name in required:
        cases.append((f"missing {name}", {k: v for k, v in valid.items() if k != name}))
    for name, value in valid.items():
        wrong = OPERATORS + [w for w in WRONG_TYPES if type(w) is not type(value)]
        if isinstance(value, str):
            wrong = [w for w in wrong if not isinstance(w, str)]
        cases += [(f"{name}={bad!r}", {**valid, name: bad}) for bad in wrong]
    cases.append(("unknown field", {**valid, "isAdmin": True}))
    cases.append(("not an object", [valid]))
    return cases


def assert_refused(response, label: str) -> None:
    assert 400 <= response.status_code < 500, (label, response.status_code, response.data)
    body = response.get_json()
    assert body and set(body) == {"error"}, (label, body)
    assert body["error"]["code"] in {"validation_error", "payload_too_large"}, (label, body)


def send_raw_cases(client, method: str, path: str, headers: dict, valid: dict) -> list:
    """Malformed JSON, wrong content type and an oversized body."""
    send = getattr(client, method)
    big = {**valid, "padding": "x" * (2 * 1024 * 1024)}
    return [
        (
            "malformed json",
            send(path, data="{bad", content_type="application/json", headers=headers),
        ),
        ("form body", send(path, data={"a": "b"}, headers=headers)),
        ("text body", send(path, data=str(valid), content_type="text/plain", headers=headers)),
        ("oversized", send(path, json=big, headers=headers)),
    ]
