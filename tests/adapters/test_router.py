"""Where a home's received messages go: a press once, and in a fleet cleared after."""

from __future__ import annotations

from cocoon.adapters.control import stamped_press
from cocoon.adapters.router import Router
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.core.events import Event, Press
from cocoon.ports import Message

from ..core.homes import home_config

CFG = home_config(calm_modes={"calm_now": {"scene": "calm"}})


def route(topics: Topics, *messages: Message) -> tuple[list[Event], list[str]]:
    events: list[Event] = []
    cleared: list[str] = []
    router = Router(
        CFG,
        topics,
        Zigbee2MqttGateway(CFG, lambda message: None),
        submit=events.append,
        announce=lambda reason: None,
        clear=cleared.append,
    )
    for message in messages:
        router.receive(message)
    return events, cleared


def test_a_press_of_a_home_of_its_own_is_one_press_and_nothing_is_cleared() -> None:
    topics = Topics.for_config(CFG)
    events, cleared = route(topics, Message(topics.button("calm_now"), b"PRESS", qos=1))
    assert events == [Press("calm_now")]
    assert cleared == []


def test_a_fleets_press_is_acted_on_then_cleared_and_the_clearing_is_no_press() -> None:
    topics = Topics.for_worker(CFG, "w1")
    press = Message(topics.button("calm_now"), stamped_press(0), qos=1, retain=False)
    # The clearing comes back to the owner's own subscription, not retained.
    clearing = Message(topics.button("calm_now"), b"", qos=1)
    events, cleared = route(topics, press, clearing)
    assert events == [Press("calm_now")]
    assert cleared == [topics.button("calm_now")]
