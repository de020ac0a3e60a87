"""/metrics: Prometheus text with clients, rooms, messages, events and latencies."""

import requests
from prometheus_client.parser import text_string_to_metric_families


def _scrape(base: str) -> dict[tuple, float]:
    text = requests.get(f"{base}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


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
    assert delta("chat_socket_events_total", event="send_message", outcome="error") == 1
    assert delta("chat_handler_latency_seconds_count", event="send_message") == 6
    assert delta("chat_delivery_latency_seconds_count") == 5
