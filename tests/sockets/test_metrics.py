"""/metrics: Prometheus text with clients, rooms, messages, events and latencies."""

import contextlib

import requests
import socketio

from tests.processes import scrape as _scrape


def test_metrics_follow_the_traffic(people, live):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    before = _scrape(live)
    a, _b = alice.socket(), bob.socket()
    for i in range(5):
        a.call("send_message", {"roomId": room, "content": str(i)})
    a.call("send_message", {"roomId": "bad"})
    after = _scrape(live)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert after[("chat_connected_clients", ())] >= 2
    assert after[("chat_active_rooms", ())] >= 1
    assert delta("chat_messages_total") == 5
    assert after[("chat_messages_per_second", ())] > 0
    assert delta("chat_socket_events_total", event="send_message", outcome="ok") == 5
    refused = {"event": "send_message", "outcome": "validation_error"}
    assert delta("chat_socket_events_total", **refused) == 1
    assert delta("chat_handler_latency_seconds_count", event="send_message") == 6
    assert delta("chat_delivery_latency_seconds_count") == 5
    assert delta("chat_commit_batch_size_sum") == 5  # one batch each: nobody else sends
    assert 1 <= delta("chat_commit_batch_size_count") <= 5


def test_metrics_count_rest_outcomes_refusals_and_the_process(people, live):
    alice = people("alice")
    before = _scrape(live)
    assert alice.rest("get", "/api/rooms/000000000000000000000000").status_code == 404
    assert alice.rest("get", "/api/users/me").status_code == 200
    stranger = socketio.Client(reconnection=False)
    with contextlib.suppress(socketio.exceptions.ConnectionError):
        stranger.connect(
            live, namespaces=["/chat"], auth={"token": "forged"}, transports=["websocket"]
        )
    after = _scrape(live)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    room = {"method": "GET", "route": "/api/rooms/<room_id>"}
    assert delta("chat_http_requests_total", **room, outcome="not_found") == 1
    me = {"method": "GET", "route": "/api/users/me"}
    assert delta("chat_http_requests_total", **me, outcome="ok") == 1
    assert delta("chat_connections_refused_total", reason="unauthorized") == 1
    assert after[("process_resident_memory_bytes", ())] > 10e6
    assert after[("process_open_fds", ())] > 0
    assert after[("python_gc_collections_total", (("generation", "0"),))] > 0


def test_metrics_need_the_token(live):
    """Who is online is not public: no token or a wrong one gets 401, never the text."""
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = requests.get(f"{live}/metrics", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_garbage_collection_pauses_are_reported(people, live):
    """Young collections run all the time under traffic; the live server reports each."""
    alice = people("alice")
    room = alice.create_room()
    young = ("chat_gc_pause_seconds_count", (("generation", "0"),))
    before = _scrape(live)
    sock = alice.socket()
    for batch in range(20):  # until one comes (a send makes little garbage): 500 at most
        for i in range(25):
            sock.call("send_message", {"roomId": room, "content": f"{batch} {i}"})
        after = _scrape(live)
        if after.get(young, 0) > before.get(young, 0):
            break
    assert after[young] > before.get(young, 0)
    assert after[("chat_gc_pause_seconds_sum", (("generation", "0"),))] > 0
