"""A burst of simultaneous Redis users waits for a pooled connection instead of failing."""

import threading
import uuid


def test_more_simultaneous_redis_users_than_connections_all_succeed(app):
    client = app.extensions["redis"]
    key = f"test-pool-{uuid.uuid4().hex}"
    errors: list[Exception] = []

    def hold_a_connection() -> None:
        try:
            client.blpop([key], timeout=0.2)  # keeps its connection for 0.2 s
        except Exception as exc:  # redis-py's default pool raises past 100
            errors.append(exc)

    threads = [threading.Thread(target=hold_a_connection) for _ in range(150)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert client.connection_pool.max_connections == app.config["REDIS_MAX_CONNECTIONS"]
