"""Callback payloads: every action comes from the registry, and anything else is stale."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import callbacks
from bot.callbacks import ACTIONS, StaleButton

FLOW_ACTIONS = sorted((flow, action) for flow, actions in ACTIONS.items() for action in actions)
# Three ids of up to 13 digits stay within Telegram's 64 bytes (record ids are far smaller);
# one id may reach MAX_ID.
IDS = st.one_of(
    st.lists(st.integers(min_value=0, max_value=10**13 - 1), max_size=3),
    st.lists(st.integers(min_value=0, max_value=callbacks.MAX_ID), max_size=1),
)


@given(st.sampled_from(FLOW_ACTIONS), IDS)
def test_a_built_payload_parses_back_to_its_flow_action_and_ids(
    flow_action: tuple[str, str], ids: list[int]
) -> None:
    flow, action = flow_action
    cb = callbacks.parse(callbacks.build(flow, action, *ids), expect=flow)
    assert (cb.flow, cb.action) == (flow, action)
    assert [cb.int_arg(i) for i in range(len(ids))] == ids


@pytest.mark.parametrize(
    ("flow", "action"), [(callbacks.TICKET, "zz"), (callbacks.INSPECT, "acc"), ("xx1", "t")]
)
def test_an_unregistered_action_cannot_be_built(flow: str, action: str) -> None:
    with pytest.raises(ValueError, match="not registered"):
        callbacks.build(flow, action, 1)


@pytest.mark.parametrize(
    ("data", "flow"),
    [
        ("rp1:explode", callbacks.REPORT),
        ("st1:zz", callbacks.START),
        ("iv1:zz:abc", callbacks.INVITE),
        ("tk1:in:1", callbacks.TICKET),  # another flow's action
        ("in1:t:1:1:x", callbacks.TICKET),  # another flow's payload
    ],
)
def test_a_payload_with_an_unregistered_action_is_stale(data: str, flow: str) -> None:
    with pytest.raises(StaleButton):
        callbacks.parse(data, expect=flow)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("in1:t:1:2:litter", True),
        ("in1:s:1:2", False),
        ("in1:z:3", False),
        ("tk1:t:1", False),
        ("in1:t:1:../x", False),
        (None, False),
        ("", False),
    ],
)
def test_is_action_names_only_that_flows_action(data: str | None, expected: bool) -> None:
    assert callbacks.is_action(data, callbacks.INSPECT, "t") is expected
