"""Generating and keeping the printed lists of a packed cycle.

After a cycle is packed, one task per community, office and supplier generates its lists and
keeps the files (PDF and XLSX under MEDIA_ROOT) with a :class:`PrintDocument` row each, so that
printing in the morning is instant. A list is regenerated only when its data changed (a late
lockdown change, a re-routed package): the data's fingerprint differs from the kept one, a new
row is written and the old one is marked superseded. Running any of this twice changes nothing.
"""

import datetime
import logging
import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Max, Min
from django.utils import timezone, translation

from core.errors import NotFound
from core.queue import enqueue
from deliveries.models import ListKind, Package, PrintDocument, PrintFailure
from deliveries.printing import rendering, selectors
from deliveries.printing.selectors import COMMUNITY_KINDS, ListKey
from households.models import Community, Compound, Office
from supply.models import Cycle

logger = logging.getLogger(__name__)


def printing_on_pack_enabled() -> bool:
    """Lists are generated when a cycle is packed unless settings turn it off (most tests do)."""
    return settings.DELIVERIES_PRINT_ON_PACK


def _places(key: ListKey) -> dict:
    """The foreign keys of a list's row: its place and the places above it (one query)."""
    if key.kind in selectors.SUPPLIER_KINDS:
        return {"supplier_id": key.place_id, "district_id": key.district_id}
    if key.kind in selectors.OFFICE_KINDS:
        office = Office.objects.values("district_id").get(pk=key.place_id)
        return {"office_id": key.place_id, "district_id": office["district_id"]}
    if key.kind == ListKind.PICKUP_NOTICE:
        compound = Compound.objects.values(
            "community_id", "community__office_id", "community__office__district_id"
        ).get(pk=key.place_id)
        return {
            "compound_id": key.place_id,
            "community_id": compound["community_id"],
            "office_id": compound["community__office_id"],
            "district_id": compound["community__office__district_id"],
        }
    community = Community.objects.values("office_id", "office__district_id").get(pk=key.place_id)
    return {
        "community_id": key.place_id,
        "office_id": community["office_id"],
        "district_id": community["office__district_id"],
    }


def _file_name(key: ListKey, fingerprint: str, extension: str) -> str:
    return f"{key.kind}-{key.place_key}-{key.delivery_date.isoformat()}-{fingerprint[:12]}.{extension}"


def document_ensure(*, key: ListKey, data: dict | None = None, now: datetime.datetime | None = None) -> PrintDocument:
    """The current kept files of one list, generated now if there are none or the data changed.

    Guarantees: equal data is never rendered twice (the fingerprint of the data read now is
    compared with the kept one); when the data changed, the new files are written and in one
    transaction the old row is marked superseded and the new one inserted, so exactly one row per
    list is current even when two workers race (the database's unique constraint decides, the
    loser returns the winner's row). Rendering happens outside the transaction: no lock is held
    while a PDF is drawn. The files are in the default language. Raises NotFound for a list with
    nothing on it.
    """
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        data = data if data is not None else selectors.list_data(key=key)
        if not data["rows"]:
            raise NotFound(_nothing_message())
        fingerprint = rendering.fingerprint(data)
        current = selectors.document_current(key=key)
        if current is not None and current.fingerprint == fingerprint and _files_exist(current):
            PrintDocument.objects.filter(pk=current.pk).update(confirmed_at=now)
            return current
        pdf_bytes = rendering.pdf(data, fingerprint_value=fingerprint)
        xlsx_bytes = rendering.xlsx(data, fingerprint_value=fingerprint)
    document = PrintDocument(
        cycle_id=key.cycle_id,
        kind=key.kind,
        delivery_date=key.delivery_date,
        place_key=key.place_key,
        title=data["title"][:200],
        rows=data["rows"],
        fingerprint=fingerprint,
        generated_at=now,
        confirmed_at=now,
        **_places(key),
    )
    document.pdf.save(_file_name(key, fingerprint, "pdf"), ContentFile(pdf_bytes), save=False)
    document.xlsx.save(_file_name(key, fingerprint, "xlsx"), ContentFile(xlsx_bytes), save=False)
    try:
        with transaction.atomic():
            old = (
                PrintDocument.objects.select_for_update()
                .filter(
                    cycle_id=key.cycle_id,
                    kind=key.kind,
                    place_key=key.place_key,
                    delivery_date=key.delivery_date,
                    superseded_at__isnull=True,
                )
                .first()
            )
            if old is not None and old.fingerprint == fingerprint and _files_exist(old):
                _delete_files(document)  # another worker kept the same list meanwhile
                return old
            if old is not None:
                old.superseded_at = now
                old.save(update_fields=["superseded_at"])
            document.save()
    except IntegrityError:
        _delete_files(document)
        winner = selectors.document_current(key=key)
        if winner is None:
            raise
        return winner
    except Exception:
        _delete_files(document)  # no row keeps these files (a busy database is tried again)
        raise
    return document


def _nothing_message() -> str:
    from django.utils.translation import gettext as _

    return _("There is nothing on this list: no packages for this place and day.")


def _files_exist(document: PrintDocument) -> bool:
    storage = document.pdf.storage
    return (
        bool(document.pdf.name and document.xlsx.name)
        and storage.exists(document.pdf.name)
        and storage.exists(document.xlsx.name)
    )


def _delete_files(document: PrintDocument) -> None:
    for field in (document.pdf, document.xlsx):
        if field.name:
            field.storage.delete(field.name)


def _supersede_others(*, cycle_id: int, kept: list[int], now: datetime.datetime, **filters) -> int:
    """Lists of a unit that have nothing on them any more (all their packages moved) are superseded."""
    return (
        PrintDocument.objects.filter(cycle_id=cycle_id, superseded_at__isnull=True, **filters)
        .exclude(pk__in=kept)
        .update(superseded_at=now)
    )


def _list_id(key: ListKey) -> tuple:
    return (key.cycle_id, key.kind, key.place_key, key.delivery_date)


def _ensure_when_free(key: ListKey, now: datetime.datetime, attempts: int = 4) -> PrintDocument:
    """Draw one list, trying again when the database is busy (SQLite's "database is locked" while
    the close or a request writes): that is not the list's fault and must not mark it failed."""
    for attempt in range(1, attempts + 1):
        try:
            return document_ensure(key=key, now=now)
        except OperationalError as exc:
            if attempt == attempts or "locked" not in str(exc):
                raise
            logger.warning("list %s: %s; trying again", key, exc)
            time.sleep(settings.DELIVERIES_PRINT_BUSY_PAUSE * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _ensure_all(keys: list[ListKey], now: datetime.datetime) -> list[int]:
    """Draw each list; one that fails is recorded with its reason (and logged) and the others go on.
    A list drawn now clears its earlier failure (one query to find them, one to clear them)."""
    cycles = {key.cycle_id for key in keys}
    failed_before = (
        {
            (f.cycle_id, f.kind, f.place_key, f.delivery_date): f.pk
            for f in PrintFailure.objects.filter(cycle_id__in=cycles).only(
                "cycle_id", "kind", "place_key", "delivery_date"
            )
        }
        if cycles
        else {}
    )
    kept, cleared = [], []
    for key in keys:
        try:
            kept.append(_ensure_when_free(key, now).pk)
        except NotFound:
            continue
        except Exception as exc:  # noqa: BLE001 - whatever broke this list must not stop the others
            logger.exception("list %s could not be drawn", key)
            PrintFailure.objects.update_or_create(
                cycle_id=key.cycle_id,
                kind=key.kind,
                place_key=key.place_key,
                delivery_date=key.delivery_date,
                defaults={"error": f"{exc.__class__.__name__}: {exc}"[:300], "failed_at": now, **_places(key)},
            )
            continue
        if _list_id(key) in failed_before:
            cleared.append(failed_before[_list_id(key)])
    if cleared:
        PrintFailure.objects.filter(pk__in=cleared).delete()
    return kept


def community_lists_generate(*, cycle_id: int, community_id: int, now: datetime.datetime | None = None) -> int:
    """Keep every list of one community current: receiving list, door list and labels per day, and a
    pick-up notice per pick-up compound and day. Lists left with nothing on them are superseded.
    Returns how many lists are current. Idempotent."""
    now = now or timezone.now()
    kept = _ensure_all(selectors.community_keys(cycle_id=cycle_id, community_id=community_id), now)
    _supersede_others(cycle_id=cycle_id, kept=kept, now=now, community_id=community_id, kind__in=COMMUNITY_KINDS)
    return len(kept)


def office_lists_generate(*, cycle_id: int, office_id: int, now: datetime.datetime | None = None) -> int:
    """Keep the office's dispatch manifest of each delivery day current. Idempotent."""
    now = now or timezone.now()
    kept = _ensure_all(selectors.office_keys(cycle_id=cycle_id, office_id=office_id), now)
    _supersede_others(cycle_id=cycle_id, kept=kept, now=now, office_id=office_id, kind__in=selectors.OFFICE_KINDS)
    return len(kept)


def supplier_lists_generate(*, cycle_id: int, supplier_id: int, now: datetime.datetime | None = None) -> int:
    """Keep the supplier's pick list of each district and delivery day current. Idempotent."""
    now = now or timezone.now()
    kept = _ensure_all(selectors.supplier_keys(cycle_id=cycle_id, supplier_id=supplier_id), now)
    _supersede_others(cycle_id=cycle_id, kept=kept, now=now, supplier_id=supplier_id, kind__in=selectors.SUPPLIER_KINDS)
    return len(kept)


def cycle_lists_queue(*, cycle_id: int, force: bool = False) -> selectors.CycleUnits | None:
    """Queue the generation of every list of a packed cycle: one task per community, office and
    supplier. Returns the units queued, or None when the cycle is not packed (or printing on pack
    is turned off and ``force`` is not given)."""
    if not (force or printing_on_pack_enabled()):
        return None
    if not Cycle.objects.filter(pk=cycle_id, status__in=selectors.PRINTABLE_STATUSES).exists():
        return None
    units = selectors.cycle_units(cycle_id=cycle_id)
    for community_id in units.communities:
        enqueue("deliveries.tasks.community_lists_print_task", cycle_id, community_id)
    for office_id in units.offices:
        enqueue("deliveries.tasks.office_lists_print_task", cycle_id, office_id)
    for supplier_id in units.suppliers:
        enqueue("deliveries.tasks.supplier_lists_print_task", cycle_id, supplier_id)
    return units


def stale_lists_refresh(*, now: datetime.datetime | None = None) -> int:
    """For the beat schedule: queue again the communities (and their offices) whose packages were
    recomputed after their lists were kept (a late lockdown change moved packages between door and
    pick-up or between slots). Only delivery days still to come. Returns how many were queued."""
    if not printing_on_pack_enabled():
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    recomputed = (
        Package.objects.filter(
            cycle__status__in=selectors.PRINTABLE_STATUSES,
            delivery_date__gte=today,
            recomputed_at__isnull=False,
        )
        .values("cycle_id", "community_id", "community__office_id")
        .annotate(last=Max("recomputed_at"))
        .order_by()
    )
    kept = {
        (row["cycle_id"], row["community_id"]): row["oldest"]
        for row in PrintDocument.objects.filter(
            superseded_at__isnull=True, community__isnull=False, delivery_date__gte=today
        )
        .values("cycle_id", "community_id")
        .annotate(oldest=Min("confirmed_at"))
        .order_by()
    }
    queued = 0
    for row in recomputed:
        oldest = kept.get((row["cycle_id"], row["community_id"]))
        if oldest is not None and oldest >= row["last"]:
            continue
        enqueue("deliveries.tasks.community_lists_print_task", row["cycle_id"], row["community_id"])
        enqueue("deliveries.tasks.office_lists_print_task", row["cycle_id"], row["community__office_id"])
        queued += 1
    return queued


def document_for_download(*, key: ListKey, data: dict | None = None) -> PrintDocument:
    """The kept files of a list for a download: current ones at once, regenerated first if the data
    changed since they were kept (see :func:`document_ensure`)."""
    return document_ensure(key=key, data=data)
