"""The worker's per-host send slots: at most `per_host` at once, handed out in turn."""

from __future__ import annotations

import asyncio

from siarkan.distribution.worker import _HostSlot


async def test_slots_are_taken_while_free_then_waited_for_in_turn() -> None:
    slot = _HostSlot(2)
    assert slot.take() and slot.take()
    assert not slot.take()
    order: list[int] = []

    async def waiter(n: int) -> None:
        await slot.wait()
        order.append(n)

    tasks = [asyncio.create_task(waiter(n)) for n in range(3)]
    await asyncio.sleep(0)
    slot.give()
    slot.give()
    await asyncio.sleep(0)
    assert order == [0, 1]
    assert not slot.take()  # the third still waits: nothing was freed for a newcomer
    slot.give()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
    for _ in range(2):  # the two holders (1 and 2) finish
        slot.give()
    assert slot.free == 2 and not slot.waiters


async def test_a_cancelled_waiter_neither_keeps_nor_loses_a_slot() -> None:
    slot = _HostSlot(1)
    assert slot.take()
    first = asyncio.create_task(slot.wait())
    second = asyncio.create_task(slot.wait())
    await asyncio.sleep(0)
    first.cancel()  # cancelled while waiting
    await asyncio.gather(first, return_exceptions=True)
    assert list(slot.waiters) == [second_waiter := slot.waiters[0]] and not second_waiter.done()
    slot.give()  # handed to `second`...
    second.cancel()  # ...which is cancelled before it runs: the slot goes on, not lost
    await asyncio.gather(second, return_exceptions=True)
    assert slot.free == 1 and not slot.waiters
    assert slot.take()
