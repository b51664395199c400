"""Several devices of one machine (``strategy='ddp'``), reachable from this machine only.

Lightning's DDP processes meet at a ``torch.distributed`` key-value store that the first
process serves on ``MASTER_ADDR:MASTER_PORT``. PyTorch binds that server to every network
interface, whatever ``MASTER_ADDR`` says. When the address is a loopback one (a run on one
machine, as ``--devices N`` starts it), :class:`LocalDDPStrategy` binds the server to that
address itself and hands it to PyTorch (``TCPStore(master_listen_fd=...)``), so that no
other machine can reach it; everything else is Lightning's ``DDPStrategy``.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import torch.distributed as dist
from lightning.pytorch.strategies import DDPStrategy

__all__ = ["LocalDDPStrategy", "is_loopback"]


def is_loopback(address: str) -> bool:
    """Whether ``address`` (an IP address or ``localhost``) names this machine's loopback."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class LocalDDPStrategy(DDPStrategy):
    """Lightning's ``DDPStrategy`` with the rendezvous store on the loopback interface.

    On a loopback ``MASTER_ADDR`` (Lightning's default on one machine is 127.0.0.1) the
    first process binds the store's port on that address before PyTorch opens it; with
    another address (several machines) nothing changes. Parameters are those of
    ``DDPStrategy``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listener: socket.socket | None = None

    def setup_distributed(self) -> None:
        """Open the process group over a loopback store, then let Lightning finish."""
        env = self.cluster_environment
        if env is not None and not dist.is_initialized() and is_loopback(env.main_address):
            self.set_world_ranks()
            backend = self.process_group_backend or (
                "nccl" if self.root_device.type == "cuda" else "gloo"
            )
            store = self._store(env.main_address, env.main_port)
            dist.init_process_group(backend, store=store, rank=self.global_rank,
                                    world_size=self.world_size, timeout=self._timeout)  # fmt: skip
        super().setup_distributed()  # the group exists: Lightning keeps it

    def _store(self, address: str, port: int) -> dist.TCPStore:
        host = "127.0.0.1" if address == "localhost" else address
        kw: dict[str, Any] = {"world_size": self.world_size, "timeout": self._timeout}
        if self.global_rank != 0:
            return dist.TCPStore(host, port, is_master=False, **kw)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(max(self.world_size, 8))
        return dist.TCPStore(host, port, is_master=True,
                             master_listen_fd=self._listener.fileno(), **kw)  # fmt: skip

    def teardown(self) -> None:
        """Lightning's tear-down, then close the store's socket."""
        super().teardown()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
