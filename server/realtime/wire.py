"""How Socket.IO packets are written on the wire: JSON by orjson, looked at once.

python-socketio walks every payload looking for bytes before it encodes it, then encodes it with
the standard library: two passes over each scan's answer, about a tenth of a server's time at
a thousand scans a second. Here one orjson pass does both: a payload orjson can write holds no
bytes (orjson refuses them), and its text is kept for :meth:`FloorPacket.encode`. Anything
orjson refuses (bytes, integer keys, huge integers) goes the library's own way.
"""
from __future__ import annotations

import orjson
from socketio import packet

from server import jsontext


class SocketJson:
    """The ``json`` module python-socketio and python-engineio are given."""
    dumps = staticmethod(jsontext.dumps)
    loads = staticmethod(jsontext.loads)


class FloorPacket(packet.Packet):
    json = SocketJson

    def __init__(self, packet_type=packet.EVENT, data=None, namespace=None, id=None, binary=None,
                 encoded_packet=None):
        self.json_text = None
        if binary is None and encoded_packet is None and data is not None:
            try:
                self.json_text = orjson.dumps(data).decode()
                binary = False
            except TypeError:
                pass  # bytes, or something else orjson does not write: the library looks
        super().__init__(packet_type, data, namespace, id, binary, encoded_packet)

    def encode(self):
        if self.json_text is None or self.packet_type in (packet.BINARY_EVENT, packet.BINARY_ACK):
            return super().encode()
        encoded = str(self.packet_type)
        if self.namespace is not None and self.namespace != "/":
            encoded += self.namespace + ","
        if self.id is not None:
            encoded += str(self.id)
        return encoded + self.json_text
