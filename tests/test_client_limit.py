"""Each client's allowance per minute (query time, new short links), one leaky bucket per address: used at once,
then at the allowance's rate; the wait a refused client is told is the time until its bucket has room."""

from __future__ import annotations

import time

import pytest

from api.http.client_limit import ClientLimit


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the module's clock: the same module object
    return now


def test_query_time_is_charged_after_the_fact_and_drains_at_the_allowance(clock: list[float]) -> None:
    share = ClientLimit(60)  # 60 s of query time a minute
    share.charge("192.0.2.1", 50)
    assert share.retry_after("192.0.2.1") is None  # below the brim: the next query may run, however long
    share.charge("192.0.2.1", 20)
    assert share.retry_after("192.0.2.1") == 10  # 10 s over the brim, draining 1 s a second
    assert share.retry_after("192.0.2.2") is None
    clock[0] += 9.5
    assert share.retry_after("192.0.2.1") == 1
    clock[0] += 1
    assert share.retry_after("192.0.2.1") is None


def test_links_are_taken_whole_and_only_when_there_is_room(clock: list[float]) -> None:
    links = ClientLimit(20)  # 20 a minute: one every 3 s once the allowance is used
    assert all(links.take("192.0.2.1") is None for _ in range(20))
    assert links.take("192.0.2.1") == 3
    clock[0] += 2
    assert links.take("192.0.2.1") == 1  # refused: nothing is charged for it
    clock[0] += 1
    assert links.take("192.0.2.1") is None
    assert links.take("192.0.2.1") == 3


def test_only_the_most_recently_active_clients_are_remembered(clock: list[float]) -> None:
    links = ClientLimit(1, clients=2)
    for client in ("192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.3"):
        links.charge(client, 1)
    assert links.retry_after("192.0.2.1", 1) == 120  # charged again since the others: kept
    assert links.retry_after("192.0.2.3", 1) == 60
    assert links.retry_after("192.0.2.2", 1) is None  # the longest idle: forgotten
