#!/usr/bin/env python3
"""A byte-for-byte proxy from a Unix socket to slapd's ldapi socket, for the fleet tests.

Usage: ldap_pause_proxy.py LISTEN_PATH SLAPD_PATH TRIGGER_FILE COMMAND

It forwards every connection unchanged, except that it holds the first ModifyRequest any
client sends (LDAP application tag 6), runs COMMAND (a shell command) to completion, writes
TRIGGER_FILE, and only then forwards the request: the modify then arrives after another
writer's change, as it would behind a concurrent login or tool on another host.
"""
import os
import socket
import subprocess
import sys
import threading

listen_path, slapd_path, trigger_file, command = sys.argv[1:5]
fired = threading.Lock()
done = False


def message_op(buffer):
    """(length of the first whole LDAPMessage in buffer, its protocolOp tag) or None."""
    if len(buffer) < 2 or buffer[0] != 0x30:
        return None
    first = buffer[1]
    if first < 0x80:
        header, length = 2, first
    else:
        n = first & 0x7F
        if len(buffer) < 2 + n:
            return None
        header, length = 2 + n, int.from_bytes(buffer[2:2 + n], "big")
    total = header + length
    if len(buffer) < total:
        return None
    # messageID: INTEGER with a short length, then the protocolOp's tag.
    id_length = buffer[header + 1]
    return total, buffer[header + 2 + id_length]


def client_to_server(client, server):
    global done
    buffer = b""
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            buffer += data
            while True:
                parsed = message_op(buffer)
                if parsed is None:
                    break
                total, op = parsed
                message, buffer = buffer[:total], buffer[total:]
                if op == 0x66:
                    with fired:
                        if not done:
                            subprocess.run(command, shell=True, check=False)
                            with open(trigger_file, "w") as f:
                                f.write("fired\n")
                            done = True
                server.sendall(message)
    except OSError:
        pass
    finally:
        if buffer:
            try:
                server.sendall(buffer)
            except OSError:
                pass
        try:
            server.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def server_to_client(server, client):
    try:
        while True:
            data = server.recv(65536)
            if not data:
                break
            client.sendall(data)
    except OSError:
        pass
    finally:
        try:
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.connect(slapd_path)
    threading.Thread(target=server_to_client, args=(server, client), daemon=True).start()
    client_to_server(client, server)


if os.path.exists(listen_path):
    os.unlink(listen_path)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(listen_path)
listener.listen(16)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
