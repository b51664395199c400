"""Is a Dask scheduler listening at an address? A bounded, interruptible check.

Dask's client waits at start-up for the scheduler's handshake without a bound that holds
when something else listens at the address (an HTTP server never answers; a garbage peer
can make it allocate exabytes). :func:`check_dask_scheduler` connects with a timeout and
reads the first message the scheduler sends on every new connection: a Dask handshake is
a small framed message (a total size, a frame count and the frame sizes, 8 bytes each),
which nothing else sends by chance. Only ``tcp://`` addresses (and bare ``HOST:PORT``) are
checked; other protocols (``tls://``, ``ucx://``, ...) go to Dask as they are.
"""

from __future__ import annotations

import socket
import struct
import time
from urllib.parse import urlsplit

from pygbs.errors import InputError
from pygbs.runtime import check_interrupt

__all__ = ["HANDSHAKE_MAX_BYTES", "check_dask_scheduler"]

#: A handshake larger than this is not one (Dask's are about a hundred bytes).
HANDSHAKE_MAX_BYTES = 1 << 16
#: Longest single wait on the socket; signals are checked between waits.
_POLL_S = 0.2


def _host_port(address: str) -> tuple[str, int] | None:
    text = address.strip()
    if "://" not in text:
        text = "tcp://" + text
    parts = urlsplit(text)
    if parts.scheme != "tcp":
        return None
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise InputError(
            f"scheduler {address!r}: expected an address such as tcp://HOST:8786, or "
            "'local:N' for N local worker processes"
        )
    return parts.hostname, port


def _read(sock: socket.socket, n: int, deadline: float) -> bytes:
    data = b""
    while len(data) < n:
        check_interrupt()
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(min(_POLL_S, left))
        try:
            chunk = sock.recv(n - len(data))
        except TimeoutError:
            continue
        if not chunk:
            raise ConnectionResetError("the peer closed the connection")
        data += chunk
    return data


def _is_handshake(total: int, body: bytes) -> bool:
    if len(body) < 8:
        return False
    (n_frames,) = struct.unpack_from("=Q", body)
    if not 1 <= n_frames <= 64 or len(body) < 8 * (1 + n_frames):
        return False
    sizes = struct.unpack_from(f"={n_frames}Q", body, 8)
    return 8 * (1 + n_frames) + sum(sizes) == total


def check_dask_scheduler(address: str, timeout: float = 10.0) -> None:
    """Check that a Dask scheduler answers at ``address``.

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` or ``HOST:PORT`` (other protocols are not checked).
    timeout : float, default=10
        Seconds to wait for the connection and for the handshake.

    Raises
    ------
    OSError
        When nothing accepts the connection (refused, unknown host, timed out).
    pygbs.errors.InputError
        When something accepts it but does not send a Dask handshake in time, or sends
        something else; or for an address without a host and port.
    pygbs.errors.Interrupted
        On SIGINT or SIGTERM under :func:`pygbs.runtime.interruptible`.
    """
    where = _host_port(address)
    if where is None:
        return
    deadline = time.monotonic() + timeout
    sock = socket.create_connection(where, timeout=timeout)
    try:
        try:
            head = _read(sock, 8, deadline)
            (total,) = struct.unpack("=Q", head)
            if not 16 <= total <= HANDSHAKE_MAX_BYTES:
                raise ValueError
            body = _read(sock, total, deadline)
        except TimeoutError:
            raise InputError(
                f"scheduler {address}: something listens there but sent no Dask handshake "
                f"within {timeout:g} s; is it a Dask scheduler's address (usually port 8786)?"
            ) from None
        except (ValueError, ConnectionResetError):
            raise InputError(
                f"scheduler {address}: the server there is not a Dask scheduler (its first "
                "bytes are not a Dask handshake)"
            ) from None
        if not _is_handshake(total, body):
            raise InputError(
                f"scheduler {address}: the server there is not a Dask scheduler (its first "
                "bytes are not a Dask handshake)"
            )
    finally:
        sock.close()
