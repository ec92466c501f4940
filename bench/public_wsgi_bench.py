"""Quick benchmark: the server CPU one cached public request costs, without a network or a
web server: the production WSGI application called in this process, again and again, for the
public page and its CSV download (after one first request computes and caches them).

    GVRS_HOME=... python bench/public_wsgi_bench.py [--slug bench-city] [--requests 3000]
                                                     [--profile 25]

Run it on a registry where the place is published (``bench/public_bench.py --home DIR``
leaves one behind). It prints requests per second of one process and the microseconds each
costs, for a plain request and for a conditional one (``If-None-Match`` with the page's ETag);
``--profile N`` adds the N functions costing most (cProfile, cumulative time). The load bench
(``bench/public_bench.py``) is the figure that counts; this one isolates what each request
costs so that a change can be measured in seconds on a busy machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time


def _call(application, path: str, headers: dict[str, str]) -> tuple[str, list, bytes]:
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    answer: dict = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = response_headers

    chunks = application(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer["status"], answer["headers"], body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slug", default="bench-city")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    os.environ.setdefault("GVRS_ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("GVRS_DEFAULT_STATE", "CA")
    from gvrs.wsgi import application

    page = f"/public/{args.slug}/"
    for name, path in (("page", page), ("CSV", page + "data.csv")):
        status, headers, body = _call(application, path, {})
        if not status.startswith("200"):
            sys.exit(f"{path} answered {status}")
        etag = dict(headers).get("ETag")
        cases = [("plain", {})]
        if etag:
            cases.append(("If-None-Match", {"If-None-Match": etag}))
        for case, request_headers in cases:
            started = time.perf_counter()
            for _ in range(args.requests):
                _call(application, path, request_headers)
            elapsed = time.perf_counter() - started
            print(
                f"{name} ({len(body):,} bytes), {case}: {args.requests / elapsed:,.0f} requests/s "
                f"in one process, {elapsed / args.requests * 1e6:,.0f} µs each"
            )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                _call(application, path, {})
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
