"""Key tables: special key names and characters to QEMU qcodes (QMP) and X11 keysyms (VNC).

Characters follow the US keyboard layout, as Packer's drivers assume. Shifted characters and
capitals are typed with Left Shift held, as Packer's VNC driver does.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagesmith.bootcommand.grammar import Command, Key, Wait
from imagesmith.template.values import format_go_duration

# special name -> (qcode, keysym)
_SPECIAL: dict[str, tuple[str, int]] = {
    "bs": ("backspace", 0xFF08),
    "del": ("delete", 0xFFFF),
    "enter": ("ret", 0xFF0D),
    "return": ("ret", 0xFF0D),
    "esc": ("esc", 0xFF1B),
    "tab": ("tab", 0xFF09),
    "up": ("up", 0xFF52),
    "down": ("down", 0xFF54),
    "left": ("left", 0xFF51),
    "right": ("right", 0xFF53),
    "spacebar": ("spc", 0x20),
    "insert": ("insert", 0xFF63),
    "home": ("home", 0xFF50),
    "end": ("end", 0xFF57),
    "pageup": ("pgup", 0xFF55),
    "pagedown": ("pgdn", 0xFF56),
    "leftalt": ("alt", 0xFFE9),
    "leftctrl": ("ctrl", 0xFFE3),
    "leftshift": ("shift", 0xFFE1),
    "leftmeta": ("meta_l", 0xFFE7),
    "leftsuper": ("meta_l", 0xFFEB),
    "rightalt": ("alt_r", 0xFFEA),
    "rightctrl": ("ctrl_r", 0xFFE4),
    "rightshift": ("shift_r", 0xFFE2),
    "rightmeta": ("meta_r", 0xFFE8),
    "rightsuper": ("meta_r", 0xFFEC),
    "menu": ("menu", 0xFF67),
}
for _n in range(1, 13):
    _SPECIAL[f"f{_n}"] = (f"f{_n}", 0xFFBD + _n)

_PLAIN = {
    " ": "spc", "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right", "\\": "backslash",
    ";": "semicolon", "'": "apostrophe", "`": "grave_accent", ",": "comma", ".": "dot", "/": "slash",
    "\n": "ret", "\r": "ret", "\t": "tab",
}  # fmt: skip
_SHIFTED = {
    "!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9", ")": "0",
    "_": "minus", "+": "equal", "{": "bracket_left", "}": "bracket_right", "|": "backslash",
    ":": "semicolon", '"': "apostrophe", "~": "grave_accent", "<": "comma", ">": "dot", "?": "slash",
}  # fmt: skip
_CONTROL_KEYSYMS = {"\n": 0xFF0D, "\r": 0xFF0D, "\t": 0xFF09}
SHIFT = ("shift", 0xFFE1)


@dataclass(frozen=True)
class KeyEvent:
    """One key going down or up, in both encodings."""

    qcode: str
    keysym: int
    down: bool


def char_key(char: str) -> tuple[str, int, bool] | None:
    """``(qcode, keysym, needs_shift)`` for a literal character, or None if it can't be typed."""
    keysym = _CONTROL_KEYSYMS.get(char, ord(char))
    if "a" <= char <= "z" or "0" <= char <= "9":
        return char, keysym, False
    if "A" <= char <= "Z":
        return char.lower(), keysym, True
    if char in _PLAIN:
        return _PLAIN[char], keysym, False
    if char in _SHIFTED:
        return _SHIFTED[char], keysym, True
    return None


def key_events(key: Key) -> list[KeyEvent]:
    """The key events Packer's VNC driver sends for one action (Shift wrapped around shifted chars)."""
    if key.special:
        qcode, keysym = _SPECIAL[key.name]
        shift = False
    else:
        found = char_key(key.name)
        if found is None:
            raise ValueError(f"character {key.name!r} cannot be typed")
        qcode, keysym, shift = found
    main_down, main_up = KeyEvent(qcode, keysym, True), KeyEvent(qcode, keysym, False)
    shift_down, shift_up = KeyEvent(*SHIFT, True), KeyEvent(*SHIFT, False)
    if key.action == "on":
        return [shift_down, main_down] if shift else [main_down]
    if key.action == "off":
        return [main_up, shift_up] if shift else [main_up]
    return [shift_down, main_down, main_up, shift_up] if shift else [main_down, main_up]


def check_typeable(commands: list[Command]) -> list[tuple[int, str]]:
    """Problems as ``(column, message)`` for actions no driver can type."""
    problems: list[tuple[int, str]] = []
    for cmd in commands:
        if isinstance(cmd, Wait):
            if cmd.seconds < 0:
                problems.append((cmd.column, f"Expecting a positive wait value. Got {format_go_duration(cmd.seconds)}"))
        elif not cmd.special and char_key(cmd.name) is None:
            problems.append((cmd.column, f"character {cmd.name!r} cannot be typed on a US keyboard"))
    return problems
