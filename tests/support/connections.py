"""Which process answered a connection: read from Linux's ``/proc``, not asked of the service.

A multi-worker test must show that each worker process served requests. The service has no
reason to say which worker it is, so the test finds out from the kernel: the server side of a
connection is the socket whose local port is the service's and whose remote port is the
client's (``/proc/net/tcp``), and the process holding it is the one with a file descriptor on
that socket's inode (``/proc/<pid>/fd``).
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

PROC = Path("/proc")
AVAILABLE = (PROC / "net" / "tcp").is_file()


def client_port(response: httpx.Response) -> int:
    """The local port of the connection ``response`` came on (still open in the client's pool)."""
    address = response.extensions["network_stream"].get_extra_info("client_addr")
    return int(address[1])


def _port(address: str) -> int:
    """The port of a ``/proc/net/tcp`` address (``0100007F:2370``: hex, after the colon)."""
    return int(address.rsplit(":", 1)[1], 16)


def _server_socket_inode(server_port: int, remote_port: int) -> int:
    for table in ("tcp", "tcp6"):
        path = PROC / "net" / table
        if not path.is_file():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            if _port(local) == server_port and _port(remote) == remote_port:
                if inode == 0:
                    raise LookupError(f"connection from port {remote_port} is not accepted yet")
                return inode
    raise LookupError(f"no connection from port {remote_port} to port {server_port}")


def children(parent: int) -> set[int]:
    """Direct child processes of ``parent``."""
    found = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.add(int(entry.name))
    return found


def answering_process(server_port: int, response: httpx.Response, candidates: set[int]) -> int:
    """The one process among ``candidates`` that holds the server side of ``response``'s connection."""
    target = f"socket:[{_server_socket_inode(server_port, client_port(response))}]"
    holders = set()
    for pid in candidates:
        fd_dir = PROC / str(pid) / "fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(fd_dir / name) == target:
                    holders.add(pid)
            except OSError:  # closed meanwhile
                continue
    if len(holders) != 1:
        raise LookupError(f"{target} is held by {sorted(holders)} among {sorted(candidates)}")
    return holders.pop()
