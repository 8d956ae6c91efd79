"""gunicorn settings for one Wavefloor server process (systemd runs one per port).

One gevent worker per process: Socket.IO keeps each device's session in the process that
accepted it, so more workers behind one port would split sessions; run more processes on more
ports instead, behind nginx with sticky sessions. The server speaks WebSocket itself
(server/realtime/websocket.py), in each connection's greenlet; no WebSocket worker class is needed,
and gevent-websocket must not be installed (Flask-SocketIO's runner, behind ``wavefloor serve``,
would then give the server that package's handler in place of its own).

The limits a LAN needs (body size, connections per address, slow and idle clients) are nginx's
in front (deploy/nginx/wavefloor.conf); gunicorn listens on 127.0.0.1 only, and ``keepalive``
outlasts nginx's idle upstream connections (60 s), so nginx never reuses one closed here.
"""
import gc

worker_class = "gevent"
workers = 1
worker_connections = 2000
timeout = 60            # a stuck worker is restarted; Socket.IO pings every 10 s
graceful_timeout = 15
keepalive = 75
accesslog = None        # a scan is a WebSocket frame, not a request; keep the journal for errors
errorlog = "-"
loglevel = "info"
forwarded_allow_ips = "127.0.0.1"
proxy_allow_ips = "127.0.0.1"


# gunicorn sets TCP_NODELAY on its TCP listener and accepted sockets inherit it (DESIGN 12:
# p90 25 ms -> 7 ms for small scan frames).


def post_worker_init(worker):
    # the application is loaded: start what the process runs beside requests (forgetting old
    # command results, SQLite checkpoints), then keep its objects out of the collector's way
    # (p99 ~40 -> ~15 ms)
    from server.app import start_serving_tasks
    start_serving_tasks(worker.wsgi)
    gc.freeze()
