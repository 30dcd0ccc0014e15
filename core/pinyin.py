from pypinyin import Style, lazy_pinyin


def pinyin_initials(name: str) -> str:
    """Lower-case pinyin initials of a name, digits kept: 丰产路12号院 → fcl12hy (for operators' look-up)."""
    text = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def pinyin_search_key(name: str) -> str:
    """What a name can be searched by in Latin letters: its whole pinyin and its initials,
    lower-case, without tones or spaces: 鸡蛋 → "jidan jd", 连花清瘟胶囊 → "lianhuaqingwenjiaonang lhqwjn"."""
    whole = "".join(lazy_pinyin(name)).lower()
    whole = "".join(ch for ch in whole if ch.isascii() and ch.isalnum())
    return f"{whole} {pinyin_initials(name)}"[:200]
