"""Every main page's latency at the demo scale, and the shop page's bytes on the wire (issue 18).

Serves the embedded demo as ``make run`` does (its own SQLite file, seeded with the default demo
city, static files collected, gunicorn with 2 workers x 4 threads), signs in each role over HTTP
and asks for each of its pages ``--rounds`` times in turn. Prints, per page, the median and p95
in ms, and the shop page's size for a returning visitor: the compressed HTML (the only thing sent
again: its static files have hashed names and are cached for a year, so a returning browser does
not ask for them). ``/healthz/`` is measured the same way as the baseline of this run.

    .venv/bin/python bench/pages.py [--rounds 30] [--households 2000]

Loopback only, bounded: rounds x pages requests, one at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "resident": ["/", "/shop/", "/shop/basket/", "/shop/orders/", "/my/packages/", "/notifications/"],
    "worker": ["/", "/rounds/", "/tickets/", "/ledger/", "/cash/", "/statements/", "/receiving/", "/print/"],
    "operator": ["/hotline/", "/tickets/"],
    "taskforce": ["/dashboard/", "/cycles/", "/statements/"],
    "volunteer": ["/volunteer/shifts/", "/volunteer/round/"],
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sign_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{url}/accounts/login/", timeout=30).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    session.post(
        f"{url}/accounts/login/",
        {"username": username, "password": "demo12345", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{url}/accounts/login/"},
        timeout=30,
    )
    return session


def _wire(session: requests.Session, url: str) -> dict:
    """The page as a returning browser gets it: compressed HTML; its static files cached."""
    response = session.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
    body = response.raw.read(decode_content=False)
    head = sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 17
    html = body.decode("utf-8", "replace") if response.headers.get("Content-Encoding") != "gzip" else None
    text = session.get(url, timeout=30).text if html is None else html
    statics = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', text)))
    cached, fetched_again = [], 0
    for path in statics:
        static = requests.get(url.split("/shop/")[0] + path, headers={"Accept-Encoding": "gzip"}, timeout=30)
        control = static.headers.get("Cache-Control", "")
        age = int(re.search(r"max-age=(\d+)", control).group(1)) if "max-age" in control else 0
        kept = age >= 365 * 86400 and "immutable" in control
        cached.append({"path": path, "max_age_days": round(age / 86400), "immutable": "immutable" in control})
        if not kept:  # a returning browser asks again (at best a 304, at worst the file)
            fetched_again += int(static.headers.get("Content-Length", 0))
    return {
        "html_bytes_plain": len(text.encode()),
        "html_bytes_on_wire": len(body) + head,
        "encoding": response.headers.get("Content-Encoding", ""),
        "static": cached,
        "returning_visitor_bytes": len(body) + head + fetched_again,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--households", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(folder / "static"),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "seed_demo", "--households", str(args.households), "--quiet"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    port = _port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/healthz/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        sessions = {role: _sign_in(url, role) for role in PAGES}
        targets = [("baseline", "/healthz/")] + [(role, path) for role, paths in PAGES.items() for path in paths]
        times: dict[str, list[float]] = {f"{role} {path}": [] for role, path in targets}
        statuses: dict[str, set[int]] = {key: set() for key in times}
        for _round in range(args.rounds):
            for role, path in targets:
                session = sessions.get(role) or requests.Session()
                started = time.perf_counter()
                response = session.get(url + path, headers={"Accept-Encoding": "gzip"}, timeout=60)
                times[f"{role} {path}"].append((time.perf_counter() - started) * 1000)
                statuses[f"{role} {path}"].add(response.status_code)
        rows = []
        for key, samples in times.items():
            samples.sort()
            p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
            rows.append({"page": key, "median_ms": round(statistics.median(samples), 1), "p95_ms": round(p95, 1),
                         "status": sorted(statuses[key])})  # fmt: skip
        for row in rows:
            print(f"{row['page']:40} median {row['median_ms']:7.1f} ms   p95 {row['p95_ms']:7.1f} ms   {row['status']}")
        shop = _wire(sessions["resident"], f"{url}/shop/")
        print(json.dumps({"pages": rows, "shop_wire": shop, "rounds": args.rounds, "households": args.households},
                         ensure_ascii=False))  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
