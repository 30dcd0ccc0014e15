"""Every interface string has a Simplified Chinese translation, and the committed .mo matches the .po."""

import gettext
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(text: str):
    """(msgid, [msgstr…], flags, msgctxt) for each live entry of a .po file (obsolete #~ entries skipped)."""
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields and fields["msgid"]:
            yield (
                fields["msgid"],
                [v for k, v in fields.items() if k.startswith("msgstr")],
                flags,
                fields.get("msgctxt"),
            )


def test_every_string_is_translated_and_none_is_fuzzy():
    entries = list(_entries(PO.read_text(encoding="utf-8")))
    assert len(entries) > 200
    untranslated = [msgid for msgid, strs, _flags, _ctx in entries if not all(strs)]
    fuzzy = [msgid for msgid, _strs, flags, _ctx in entries if "fuzzy" in flags]
    assert not untranslated, f"untranslated (run make messages, then translate): {untranslated[:10]}"
    assert not fuzzy, f"fuzzy translations to check: {fuzzy[:10]}"


def test_compiled_catalog_matches_the_po_file():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    missing = [
        msgid
        for msgid, _strs, _flags, context in _entries(PO.read_text(encoding="utf-8"))
        if "\\" not in msgid and (catalog.pgettext(context, msgid) if context else catalog.gettext(msgid)) == msgid
    ]
    assert not missing, f"the .mo is older than the .po (run make messages): {missing[:10]}"
