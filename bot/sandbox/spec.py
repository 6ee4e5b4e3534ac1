"""Check Bot API calls against the vendored spec (bot_api_subset.json).

``Spec.decode(method, raw)`` turns the raw request parameters (strings from a form, or JSON
values) into typed Python values, validating names, required parameters, types, nested
objects (recursively, by the spec's types), documented length limits, and a few extra rules
Telegram enforces (inline buttons, bot commands). Problems raise ``ApiError``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .formatting import ParseError, parse_text, utf16_len

SUBSET_PATH = Path(__file__).with_name("bot_api_subset.json")


@dataclass
class Upload:
    """A file part of a multipart/form-data request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


class ApiError(Exception):
    """A Telegram-style error answer; ``violation`` marks malformed calls (spec/limit breaches)."""

    def __init__(self, code: int, description: str, *, violation: bool = False,
                 parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
        self.parameters = parameters


def bad_request(text: str, *, violation: bool = False) -> ApiError:
    return ApiError(400, f"Bad Request: {text}", violation=violation)


class _Mismatch(Exception):
    def __init__(self, text: str, depth: int) -> None:
        super().__init__(text)
        self.depth = depth


_INT = re.compile(r"-?\d+")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "copy_text", "callback_game", "pay")
_ENTITIES = {"text": "entities", "caption": "caption_entities", "quote": "quote_entities"}
_LIMIT_ERRORS = {  # (owner, field, too short?) -> Telegram's description
    ("sendMessage", "text", True): "message text is empty",
    ("sendMessage", "text", False): "message is too long",
    ("editMessageText", "text", True): "message text is empty",
    ("editMessageText", "text", False): "message is too long",
    ("*", "caption", False): "message caption is too long",
    ("InlineKeyboardButton", "callback_data", True): "BUTTON_DATA_INVALID",
    ("InlineKeyboardButton", "callback_data", False): "BUTTON_DATA_INVALID",
    ("BotCommand", "command", True): "BOT_COMMAND_INVALID",
    ("BotCommand", "command", False): "BOT_COMMAND_INVALID",
    ("BotCommand", "description", True): "command description must be non-empty",
    ("BotCommand", "description", False): "BOT_COMMAND_DESCRIPTION_INVALID",
    ("answerCallbackQuery", "text", False): "MESSAGE_TOO_LONG",
    ("createForumTopic", "name", True): "TOPIC_TITLE_EMPTY",
}


class Spec:
    def __init__(self, path: Path = SUBSET_PATH) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]
        self._by_lower = {name.lower(): name for name in self.methods}

    @staticmethod
    @functools.cache
    def default() -> Spec:
        """The vendored spec, loaded once."""
        return Spec()

    def canonical(self, method: str) -> str | None:
        """Telegram matches method names case-insensitively."""
        return self._by_lower.get(method.lower())

    def fields(self, method: str) -> set[str]:
        return {f["name"] for f in self.methods[method]["fields"]}

    # ------------------------------------------------------------------ top level parameters

    def decode(self, method: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate and decode the parameters of a call.

        Top-level values may be strings (form encoding: numbers, booleans and JSON-serialized
        objects as text) or JSON values; nested values must have their JSON types.
        """
        fields = {f["name"]: f for f in self.methods[method]["fields"]}
        for name in raw:
            if name not in fields:
                raise bad_request(f'unknown parameter "{name}" (Telegram silently ignores '
                                  "it, so the value would be lost)", violation=True)
        for name, f in fields.items():
            if f["required"] and name not in raw:
                what = {"text": "message text", "chat_id": "chat_id"}.get(name)
                raise bad_request(f"{what} is empty" if what else f'parameter "{name}" is '
                                  "required", violation=True)
        out: dict[str, Any] = {}
        for name, value in raw.items():
            try:
                out[name] = self._coerce(value, fields[name]["types"], name, top=True)
                self._check_limits(method, fields[name], out[name], raw)
            except _Mismatch as e:
                raise bad_request(str(e), violation=True) from None
        return out

    # ----------------------------------------------------------------------------- values

    def _coerce(self, value: Any, types: list[str], path: str, *, top: bool) -> Any:
        if len(types) > 1 and all(t.startswith("Array of ") for t in types):
            # the docs' "Array of InputMediaAudio, InputMediaDocument, InputMediaPhoto and
            # InputMediaVideo" means an array whose items are any of these
            items = [t[len("Array of ") :] for t in types]
            return self._coerce_one(value, "Array of " + "|".join(items), path, top=top)
        errors: list[_Mismatch] = []
        for t in types:
            try:
                return self._coerce_one(value, t, path, top=top)
            except _Mismatch as e:
                errors.append(e)
        if len({str(e) for e in errors}) > 1 and all(e.depth == errors[0].depth for e in errors):
            shown = " or ".join(types)
            raise _Mismatch(f'{_where(path, top)} must be of type {shown}', errors[0].depth)
        raise max(errors, key=lambda e: e.depth)

    def _coerce_one(self, value: Any, t: str, path: str, *, top: bool) -> Any:
        depth = path.count(".") + path.count("[")
        wrong = _Mismatch(f"{_where(path, top)} must be of type {t}", depth)
        stringly = top and isinstance(value, str)
        if t == "Integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if stringly and _INT.fullmatch(value.strip()):
                return int(value)
            raise wrong
        if t == "Float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            if stringly:
                try:
                    return float(value)
                except ValueError:
                    raise wrong from None
            raise wrong
        if t == "Boolean":
            if isinstance(value, bool):
                return value
            if stringly and value.lower() in _BOOLS:
                return _BOOLS[value.lower()]
            raise wrong
        if t == "String":
            if isinstance(value, str):
                return value
            raise wrong
        if t == "InputFile":
            if isinstance(value, Upload):
                return value
            raise wrong
        if stringly and (t.startswith("Array of ") or t.split("|")[0] in self.types):
            try:
                value = json.loads(value)
            except ValueError:
                kind = "array" if t.startswith("Array of ") else "object"
                raise _Mismatch(f'can\'t parse JSON {kind} "{path}"', depth + 1) from None
        if t.startswith("Array of "):
            if not isinstance(value, list):
                raise wrong
            items = t[len("Array of ") :].split("|")
            return [self._coerce(v, items, f"{path}[{i}]", top=False)
                    for i, v in enumerate(value)]
        if t in self.types:
            return self._object(t, value, path, depth)
        return value  # a type the subset does not describe: accept as is

    def _object(self, t: str, value: Any, path: str, depth: int) -> dict[str, Any]:
        spec = self.types[t]
        if not isinstance(value, dict):
            raise _Mismatch(f'field "{path}" must be of type {t}', depth)
        if "subtypes" in spec:
            return self._union(t, spec["subtypes"], value, path, depth)
        fields = {f["name"]: f for f in spec.get("fields", [])}
        for key in value:
            if key not in fields:
                raise _Mismatch(f'can\'t parse {t}: unknown field "{path}.{key}" (Telegram '
                                "would silently ignore it)", depth + 1)
        out: dict[str, Any] = {}
        for name, f in fields.items():
            if name not in value or value[name] is None:
                if f["required"]:
                    raise _Mismatch(f'can\'t parse {t}: Can\'t find field "{name}" '
                                    f'(field "{path}.{name}" is required)', depth + 1)
                continue
            v = self._coerce(value[name], f["types"], f"{path}.{name}", top=False)
            if "const" in f and v != f["const"]:
                raise _Mismatch(f'field "{path}.{name}" must be "{f["const"]}"', depth + 1)
            self._check_limits(t, f, v, value, path=f"{path}.{name}")
            out[name] = v
        _EXTRA_CHECKS.get(t, _no_check)(out, path)
        return out

    def _union(self, t: str, subtypes: list[str], value: dict[str, Any], path: str,
               depth: int) -> dict[str, Any]:
        candidates = []
        for sub in subtypes:
            consts = {f["name"]: f["const"] for f in self.types[sub].get("fields", [])
                      if "const" in f}
            if all(value.get(k) == v for k, v in consts.items()):
                candidates.append(sub)
        if not candidates:
            raise _Mismatch(f'field "{path}" is not a valid {t} (unknown type '
                            f'{value.get("type", value.get("source"))!r})', depth + 1)
        errors: list[_Mismatch] = []
        for sub in candidates:
            try:
                return self._object(sub, value, path, depth)
            except _Mismatch as e:
                errors.append(e)
        raise max(errors, key=lambda e: e.depth)

    # ----------------------------------------------------------------------------- limits

    def _check_limits(self, owner: str, f: dict[str, Any], value: Any, siblings: dict[str, Any],
                      path: str | None = None) -> None:
        limits = f.get("limits")
        if not limits or value is None:
            return
        name, unit = f["name"], limits["unit"]
        if unit == "items":
            size = len(value)
        elif unit == "value":
            size = value
        elif unit == "bytes":
            size = len(value.encode("utf-8"))
        else:
            if limits.get("after_parsing"):
                mode = siblings.get("quote_parse_mode" if name == "quote" else "parse_mode")
                if siblings.get(_ENTITIES.get(name, "")):
                    mode = None  # explicit entities win over parse_mode
                try:
                    value, _ = parse_text(value, mode if isinstance(mode, str) else None)
                except ParseError as e:
                    raise bad_request(f"can't parse entities: {e}", violation=True) from None
                except ValueError:
                    raise bad_request(f"unsupported parse_mode {mode!r}", violation=True) from None
                value = value.strip()
            size = utf16_len(value)
        if limits["min"] <= size <= limits["max"]:
            return
        short = size < limits["min"]
        known = _LIMIT_ERRORS.get((owner, name, short)) or _LIMIT_ERRORS.get(("*", name, short))
        if known:
            raise bad_request(known, violation=True)
        raise bad_request(f'{_where(path or name, path is None)} must be {limits["min"]}-'
                          f'{limits["max"]} {unit}, got {size}', violation=True)


def _where(path: str, top: bool) -> str:
    return f'parameter "{path}"' if top else f'field "{path}"'


def _no_check(obj: dict[str, Any], path: str) -> None:
    return None


def _check_button(button: dict[str, Any], path: str) -> None:
    actions = [a for a in _BUTTON_ACTIONS if a in button]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in "
                          "the inline keyboard", violation=True)
    if len(actions) > 1:
        raise bad_request(f"can't parse inline keyboard button: {path} has more than one of "
                          f"{', '.join(actions)}", violation=True)
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID", violation=True)
    if "url" in button and not re.match(r"(https?|tg)://\S+$", button["url"]):
        raise bad_request("BUTTON_URL_INVALID", violation=True)


def _check_keyboard(markup: dict[str, Any], path: str) -> None:
    too_many = sum(len(row) for row in markup["inline_keyboard"]) > 100
    if too_many or len(json.dumps(markup, ensure_ascii=False).encode()) > 10240:
        raise bad_request("reply markup is too long", violation=True)


def _check_command(cmd: dict[str, Any], path: str) -> None:
    if not _COMMAND.fullmatch(cmd["command"]):
        raise bad_request("BOT_COMMAND_INVALID", violation=True)
    if not cmd["description"].strip():
        raise bad_request("command description must be non-empty", violation=True)


_EXTRA_CHECKS = {
    "InlineKeyboardButton": _check_button,
    "InlineKeyboardMarkup": _check_keyboard,
    "BotCommand": _check_command,
}
