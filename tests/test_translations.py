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


# Placeholders that stand for a number, a day or a time (all but the named text ones): written
# against the Chinese around them (共%(n)s件, 将于%(date)s送货上门), as CONTRIBUTING.md's "Spaces"
# rule asks. Codes, names, places and phone numbers keep their spaces (物资包 %(code)s).
_NUMERIC = r"%\((?!(?:code|number|name|id|phone|office|community|hotline|order|slot|product|key|address|reason|point|supplier|district|compound|status|channel|filename|place|employer|role|user|label|title|worker|team|building|unit|room|kind|outcome|choice|money|field)\))\w+\)[sd]"
_CJK = r"[\u3400-\u9fff（），。：；！？、]"
# a number on its own (not part of UTF-8, 7-Zip or 2022-04-25, which keep their spaces)
_NUMBER = r"(?<![\w\-–.])\d+(?![\w\-–.])"
_TIGHT = re.compile(rf"{_CJK} (?:{_NUMBER}|{_NUMERIC})|(?:{_NUMBER}|{_NUMERIC}) {_CJK}")


def test_no_space_between_chinese_and_numbers_days_or_times():
    loose = [
        (msgid, text)
        for msgid, strs, _flags, _ctx in _entries(PO.read_text(encoding="utf-8"))
        for text in strs
        if _TIGHT.search(text)
    ]
    assert not loose, f"a space between Chinese and a number, day or time: {loose[:10]}"
