"""A small HTTP/1.1 server on asyncio streams.

Supports keep-alive, Content-Length and chunked request bodies,
'Expect: 100-continue', 'Connection: close', pipelined requests and
optional TLS (the handshake is done per connection so that accepted
connections and completed handshakes can be counted separately).
"""
import asyncio
import socket
import struct
import time

MAX_HEAD = 64 * 1024
MAX_BODY = 32 * 1024 * 1024

REASONS = {
    100: "Continue", 200: "OK", 204: "No Content", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 411: "Length Required",
    412: "Precondition Failed", 413: "Payload Too Large",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class Request(object):
    __slots__ = ("method", "target", "path", "query", "version", "headers",
                 "hmap", "body", "peer", "tls", "received")

    def header(self, name, default=None):
        return self.hmap.get(name, default)


class Response(object):
    __slots__ = ("status", "headers", "body", "action", "stall", "close")

    def __init__(self, status=200, body=b"", headers=None):
        self.status = status
        self.body = body
        self.headers = headers or []
        self.action = None      # None | "reset" | "truncate"
        self.stall = 0.0        # seconds to hold the response
        self.close = False


class HttpError(Exception):
    def __init__(self, status, msg):
        Exception.__init__(self, msg)
        self.status = status


def parse_head(data):
    """Parse request line and headers (bytes, without the final CRLF)."""
    text = data.decode("latin-1")
    lines = text.split("\r\n")
    if len(lines) == 1 and "\n" in text:
        lines = text.split("\n")
    method, _, rest = lines[0].partition(" ")
    target, _, version = rest.rpartition(" ")
    if not method or not target or not version.startswith("HTTP/"):
        raise HttpError(400, "bad request line")
    # The head is decoded as latin-1 (one char per byte); give the target
    # back its UTF-8 meaning so that SigV4 re-encodes the original bytes.
    target = target.encode("latin-1").decode("utf-8", "surrogateescape")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t":
            if not headers:
                raise HttpError(400, "continuation without header")
            n, v = headers[-1]
            headers[-1] = (n, v + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "bad header line")
        headers.append((name, value.strip(" \t")))
    return method, target, version, headers


class Stats(object):
    def __init__(self):
        self.reset()

    def reset(self):
        self.connections = 0
        self.tls_handshakes = 0
        self.requests = 0
        self.open = 0
        self.resets = 0

    def to_json(self):
        return {"connections_accepted": self.connections,
                "tls_handshakes": self.tls_handshakes,
                "connections_open": self.open,
                "http_requests": self.requests,
                "connections_reset": self.resets}


class Server(object):
    def __init__(self, app, ssl_ctx=None):
        self.app = app
        self.ssl_ctx = ssl_ctx
        self.stats = Stats()
        self.server = None
        self.writers = set()

    async def start(self, host, port):
        loop = asyncio.get_running_loop()

        def factory():
            # Called for every accepted TCP connection, before any TLS
            # handshake, so accepted connections are counted here.
            self.stats.connections += 1
            reader = asyncio.StreamReader(limit=MAX_HEAD, loop=loop)
            return asyncio.StreamReaderProtocol(reader, self._conn,
                                                loop=loop)
        kw = {}
        if self.ssl_ctx is not None:
            kw["ssl"] = self.ssl_ctx
            kw["ssl_handshake_timeout"] = 10
        self.server = await loop.create_server(
            factory, host, port, backlog=1024, reuse_address=True, **kw)
        return self.server.sockets[0].getsockname()[1]

    async def close(self):
        if self.server:
            self.server.close()
        for w in list(self.writers):
            try:
                w.close()
            except Exception:
                pass
        if self.server:
            try:
                await asyncio.wait_for(self.server.wait_closed(), 1)
            except Exception:
                pass

    async def _conn(self, reader, writer):
        st = self.stats
        st.open += 1
        self.writers.add(writer)
        sock = writer.get_extra_info("socket")
        try:
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        peer = writer.get_extra_info("peername")
        tls = writer.get_extra_info("ssl_object") is not None
        if tls:
            st.tls_handshakes += 1
        try:
            await self._serve(reader, writer, peer, tls)
        except (ConnectionError, asyncio.IncompleteReadError,
                asyncio.CancelledError, OSError):
            pass
        finally:
            st.open -= 1
            self.writers.discard(writer)
            try:
                writer.close()
            except Exception:
                pass

    async def _serve(self, reader, writer, peer, tls):
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                await self._simple(writer, 431, "header too large")
                return
            except asyncio.IncompleteReadError:
                return
            try:
                method, target, version, headers = parse_head(head[:-4])
            except HttpError as e:
                await self._simple(writer, e.status, str(e))
                return
            hmap = {}
            for n, v in headers:
                ln = n.lower()
                if ln in hmap:
                    hmap[ln] = hmap[ln] + "," + v
                else:
                    hmap[ln] = v
            conn_hdr = hmap.get("connection", "").lower()
            keep = (version == "HTTP/1.1" and "close" not in conn_hdr) or \
                (version == "HTTP/1.0" and "keep-alive" in conn_hdr)
            if hmap.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            try:
                body = await self._read_body(reader, hmap)
            except HttpError as e:
                await self._simple(writer, e.status, str(e))
                return
            req = Request()
            req.method = method
            req.target = target
            path, _, query = target.partition("?")
            req.path = path
            req.query = query
            req.version = version
            req.headers = headers
            req.hmap = hmap
            req.body = body
            req.peer = peer
            req.tls = tls
            req.received = time.time()
            self.stats.requests += 1
            resp = await self.app.handle(req)
            if resp.stall:
                await asyncio.sleep(resp.stall)
            if resp.action == "reset":
                self.stats.resets += 1
                self._reset(writer)
                return
            if resp.close:
                keep = False
            data = self._serialize(resp, keep)
            if resp.action == "truncate":
                cut = len(data) - max(1, len(resp.body) // 2)
                writer.write(data[:cut])
                await writer.drain()
                self._reset(writer)
                return
            writer.write(data)
            await writer.drain()
            if not keep:
                return

    async def _read_body(self, reader, hmap):
        te = hmap.get("transfer-encoding", "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            while True:
                line = await reader.readuntil(b"\r\n")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        trailer = await reader.readuntil(b"\r\n")
                        if trailer == b"\r\n":
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise HttpError(413, "body too large")
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            return b"".join(chunks)
        cl = hmap.get("content-length")
        if cl is None:
            return b""
        try:
            n = int(cl)
        except ValueError:
            raise HttpError(400, "bad content-length")
        if n < 0 or n > MAX_BODY:
            raise HttpError(413, "body too large")
        if n == 0:
            return b""
        return await reader.readexactly(n)

    def _serialize(self, resp, keep):
        st = resp.status
        lines = ["HTTP/1.1 %d %s" % (st, REASONS.get(st, "Unknown"))]
        for n, v in resp.headers:
            lines.append("%s: %s" % (n, v))
        lines.append("Content-Length: %d" % len(resp.body))
        lines.append("Date: " + _http_date())
        if not keep:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + resp.body

    async def _simple(self, writer, status, msg):
        body = (msg + "\n").encode()
        writer.write(("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n"
                      % (status, REASONS.get(status, "Error"), len(body))
                      ).encode() + body)
        try:
            await writer.drain()
        except Exception:
            pass

    def _reset(self, writer):
        sock = writer.get_extra_info("socket")
        try:
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
        except OSError:
            pass
        writer.transport.abort()


_date_cache = [0, ""]


def _http_date():
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                       time.gmtime(now))
    return _date_cache[1]
