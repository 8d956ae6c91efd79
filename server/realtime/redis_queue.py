"""Events between server processes, through Redis: python-socketio's Redis manager, listening
again sooner after Redis comes back.

The library's listener doubles its wait after each failed reconnect, up to a minute; after an
outage of a few minutes a process went on missing the other processes' events (a wall screen on
B no longer hearing the picks made on A) for up to a minute after Redis was back. Here the wait
grows from a quarter second to at most :attr:`FloorRedisManager.LONGEST_WAIT_S`.

Events that every process reads for itself (the rows of server/services/outbox.py) go to each process's
own devices only (:func:`here_only`): sent through Redis as well, a device would hear them once
from every process.
"""
from __future__ import annotations

import time

import socketio


class FloorRedisManager(socketio.RedisManager):
    FIRST_WAIT_S = 0.25
    LONGEST_WAIT_S = 2.0

    def _redis_listen_with_retries(self):
        wait = self.FIRST_WAIT_S
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed, wait = True, self.FIRST_WAIT_S
                yield from self.pubsub.listen()
            except Exception as exc:
                self._get_logger().error("Cannot receive from redis, retrying in %.2f s: %s", wait, exc)
                subscribed = False
                time.sleep(wait)
                wait = min(2 * wait, self.LONGEST_WAIT_S)


def here_only(socketio, namespace: str):
    """``deliver(event, payload, rooms)`` to the devices connected to this process, not through
    Redis (``ignore_queue``; without Redis every emit is this process's own)."""
    def deliver(event: str, payload: dict, rooms: tuple[str, ...]) -> None:
        for room in rooms:
            socketio.emit(event, payload, to=room, namespace=namespace, ignore_queue=True)
    return deliver
