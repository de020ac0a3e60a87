"""chat.live.origin: the socket a piece of work came from, per green thread."""

import threading

from chat.live import origin


def test_each_thread_sees_only_its_own_socket_and_it_ends_with_the_block():
    seen: dict[str, list] = {}
    inside = threading.Barrier(2)

    def work(sid: str) -> None:
        with origin.socket(sid):
            inside.wait(5)  # both threads are inside their blocks at once
            seen[sid] = [origin.current()]
        seen[sid].append(origin.current())

    threads = [threading.Thread(target=work, args=(sid,)) for sid in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert seen == {"one": ["one", None], "two": ["two", None]}
    assert origin.current() is None
