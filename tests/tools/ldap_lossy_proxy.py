#!/usr/bin/env python3
"""An LDAP proxy between a unix socket and slapd's ldapi socket that loses one write's answer.

Usage: ldap_lossy_proxy.py LISTEN_SOCKET SLAPD_SOCKET MODE_FILE

It forwards LDAP messages both ways. MODE_FILE holds what to do with the next ModifyRequest
(read at each one, then emptied so that it happens once):
  after   forward the modify to slapd, wait for its answer, then drop the connection
          without passing the answer on: the write happened, its answer was lost;
  before  drop the connection instead of forwarding the modify: it never happened;
  (empty) forward everything.
"after N" or "before N" lets N modifies through first (N=1: a login's second write).
Each loss is reported on standard output ("lost the answer", "lost the request").
The client sees the same thing in both cases (a connection reset after it sent a modify),
which is exactly what the fleet store must settle by re-reading.
"""
import os
import socket
import sys
import threading

MODIFY_REQUEST = 0x66


def read_message(sock):
    """One BER-encoded LDAPMessage, or None at end of stream."""
    def read_exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    head = read_exact(2)
    if head is None:
        return None
    length = head[1]
    extra = b""
    if length & 0x80:
        count = length & 0x7F
        extra = read_exact(count)
        if extra is None:
            return None
        length = int.from_bytes(extra, "big")
    body = read_exact(length)
    if body is None:
        return None
    return head + extra + body


def operation_tag(message):
    """The protocolOp tag: after the SEQUENCE header and the messageID INTEGER."""
    i = 1
    first = message[i]
    i += 1 + (first & 0x7F if first & 0x80 else 0)
    assert message[i] == 0x02  # messageID
    id_length = message[i + 1]
    i += 2 + id_length
    return message[i]


LOCK = threading.Lock()


def take_mode(mode_file):
    with LOCK:
        try:
            with open(mode_file) as f:
                words = f.read().split()
        except FileNotFoundError:
            return ""
        if not words:
            return ""
        if len(words) > 1 and int(words[1]) > 0:
            with open(mode_file, "w") as f:
                f.write("%s %d\n" % (words[0], int(words[1]) - 1))
            return ""
        open(mode_file, "w").close()
        return words[0]


def serve(client, server_path, mode_file):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.connect(server_path)
    done = threading.Event()
    swallow = threading.Event()    # the next answer from slapd is dropped, not passed on
    swallowed = threading.Event()

    def close_both():
        done.set()
        for s in (client, server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def answers():
        while not done.is_set():
            try:
                message = read_message(server)
            except OSError:
                break
            if message is None:
                break
            if swallow.is_set():
                swallowed.set()
                break
            try:
                client.sendall(message)
            except OSError:
                break
        close_both()

    threading.Thread(target=answers, daemon=True).start()
    while True:
        try:
            message = read_message(client)
        except OSError:
            break
        if message is None:
            break
        if operation_tag(message) == MODIFY_REQUEST:
            mode = take_mode(mode_file)
            if mode == "before":
                print("lost the request", flush=True)
                break
            if mode == "after":
                swallow.set()
                server.sendall(message)
                swallowed.wait(10)  # slapd answered: the write is applied; its answer dropped
                print("lost the answer", flush=True)
                break
        server.sendall(message)
    close_both()


def main():
    listen_path, server_path, mode_file = sys.argv[1:4]
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(listen_path)
    listener.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, server_path, mode_file), daemon=True).start()


if __name__ == "__main__":
    main()
