from pypinyin import Style, lazy_pinyin


def pinyin_initials(name: str) -> str:
    """Lower-case pinyin initials of a name, digits kept: 丰产路12号院 → fcl12hy (for operators' look-up)."""
    text = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())
