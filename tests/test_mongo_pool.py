"""More simultaneous requests than pooled database connections: they queue, none fails."""

import threading

import mongoengine


def test_more_simultaneous_requests_than_database_connections_all_succeed(app, alice):
    pool_size = app.config["MONGODB_MAX_POOL_SIZE"]
    assert mongoengine.get_connection().options.pool_options.max_pool_size == pool_size
    room = alice.create_room("pool")["id"]
    statuses: list[int] = []

    def read_history() -> None:
        client = app.test_client()
        response = client.get(f"/api/messages/{room}", headers=alice.headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=read_history) for _ in range(pool_size * 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * (pool_size * 4)
