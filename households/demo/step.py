"""Households' step of ``seed_demo`` (see ``core.demo``): the city, the accounts, and their report."""

from core.demo import DemoRun, DemoSection
from households.demo.writing import demo_city_seed, demo_registration_example


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def demo_step(run: DemoRun) -> list[DemoSection]:
    """Seed the demo city for the supplier account of ``run.shared["supplier_id"]`` (supply's step before)."""
    result = demo_city_seed(households=run.households, seed=run.seed, supplier_id=run.shared.get("supplier_id"))
    rows = [("username", "role", "scope", "password")]
    rows += [(a.username, a.role, a.scope, a.password) for a in result.accounts]
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    accounts = []
    for n, row in enumerate(rows):
        accounts.append("  " + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            accounts.append("  " + "  ".join("-" * w for w in widths))
    workers = result.community_workers
    accounts.append(
        f"  and {len(workers)} community workers ({workers[0]} … {workers[-1]}), password {result.accounts[0].password}"
    )
    example = demo_registration_example()
    if example:
        accounts.append(
            f"  to try registering: phone {example[0]}, address {example[1]} (no account yet); "
            "the text-message code is shown on the page and in the server log"
        )
    city = [f"  {label:<12}{total:>9}  ({result.created[label]} new)" for label, total in result.totals.items()]
    return [DemoSection("Demo accounts", tuple(accounts)), DemoSection("Demo city", tuple(city))]
