"""AFX204: CHANNEL_LAYERS settings that the allowed Channels / channels_redis releases reject.

Any module that assigns ``CHANNEL_LAYERS = {...}`` (found by content, not by name) is a settings
module. The collector records, per layer alias, the BACKEND string, a Channels 1 ``ROUTING`` key,
aioredis-style host dicts and ``symmetric_encryption_keys``, with the character spans a fix edits.
The matcher decides from the install set's allowed versions (rules/data/moves.toml: the BACKEND
moves and the ``[[change]]`` facts, each read from the released files by the build script).
"""

from __future__ import annotations

import ast
from ..records import dataclass
from typing import Iterator, Optional

from .. import moves as catalogue
from ..model import Edit, Finding, Fix
from . import FileFacts, ProjectMatcher

# Channels 1 backends with no Channels 2+ successor of the same kind.
DEAD_BACKENDS = {
    "asgi_ipc.IPCChannelLayer": ("asgi-ipc", "asgi_ipc has no Channels 2+ release: use channels_redis's "
                                             "RedisChannelLayer (or channels.layers.InMemoryChannelLayer on one process)"),
}


@dataclass(frozen=True)
class Spot:
    """A piece of the settings text: character offsets and the 1-based line."""

    start: int
    end: int
    line: int
    text: str


@dataclass(frozen=True)
class LayerFacts:
    alias: str
    backend: Optional[Spot] = None
    backend_value: str = ""
    routing: Optional[Spot] = None  # the whole "ROUTING": value entry, with the text removing it takes
    routing_removal: Optional[Spot] = None
    routing_value: str = ""  # the ROUTING string ("proj.routing.channel_routing"), "" when not a literal
    tuple_hosts: tuple[tuple[Spot, str], ...] = ()  # ("redis", 6379) address value -> "redis://redis:6379"
    key_strings: Optional[Spot] = None  # symmetric_encryption_keys given one string


@dataclass(frozen=True)
class SettingsFacts:
    layers: tuple[LayerFacts, ...]
    asgi_application: bool  # the module sets ASGI_APPLICATION
    keep_document: bool = True
    assignment_line: int = 0
    assignment_end: int = -1  # offset just after the CHANNEL_LAYERS statement's last line (its line ending included)


def _offset(document, line: int, byte_column: int) -> int:
    from ..codemod import char_offset

    return char_offset(document, line, byte_column)


def _spot(document, node: ast.AST) -> Spot:
    start = _offset(document, node.lineno, node.col_offset)
    end = _offset(document, node.end_lineno, node.end_col_offset)
    return Spot(start, end, node.lineno, document.text[start:end])


def _removal(document, key: ast.AST, value: ast.AST) -> Spot:
    """The text removing a ``"KEY": value`` dict entry takes: its whole lines when it has them to
    itself, else the entry and the comma after it."""
    text = document.text
    start = _offset(document, key.lineno, key.col_offset)
    end = _offset(document, value.end_lineno, value.end_col_offset)
    rest = end
    while rest < len(text) and text[rest] in " \t":
        rest += 1
    if rest < len(text) and text[rest] == ",":
        end = rest + 1
    line_start = document.line_starts[key.lineno - 1]
    line_end_index = value.end_lineno  # next line's start
    line_end = document.line_starts[line_end_index] if line_end_index < document.line_count else len(text)
    tail = text[end:line_end].strip()
    if not text[line_start:start].strip() and (not tail or tail.startswith("#")):
        return Spot(line_start, line_end, key.lineno, text[line_start:line_end])
    while end < len(text) and text[end] == " ":
        end += 1
    return Spot(start, end, key.lineno, text[start:end])


def _string_names(tree: ast.Module) -> set[str]:
    found = {"SECRET_KEY"}  # Django requires a str
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return found


def _key(node) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def collect_channel_layers(parsed) -> Optional[tuple[SettingsFacts, set[int]]]:
    tree = getattr(parsed, "tree", None)
    if tree is None:
        return None
    document = parsed.document
    layers: list[LayerFacts] = []
    asgi_application = False
    line = 0
    assignment_end = -1
    strings: Optional[set[str]] = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        if "ASGI_APPLICATION" in names:
            asgi_application = True
        if "CHANNEL_LAYERS" not in names or not isinstance(node.value, ast.Dict):
            continue
        line = node.lineno
        layers = []  # a later CHANNEL_LAYERS = {...} replaces the earlier one, which never runs
        end_line = node.end_lineno or node.lineno
        assignment_end = document.line_starts[end_line] if end_line < document.line_count else len(document.text)
        for alias_key, config in zip(node.value.keys, node.value.values):
            alias = _key(alias_key)
            if alias is None or not isinstance(config, ast.Dict):
                continue
            fields: dict = {}
            for key, value in zip(config.keys, config.values):
                name = _key(key)
                if name == "BACKEND" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    fields["backend"], fields["backend_value"] = _spot(document, value), value.value
                elif name == "ROUTING":
                    fields["routing"] = _spot(document, key)
                    fields["routing_removal"] = _removal(document, key, value)
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        fields["routing_value"] = value.value
                elif name == "CONFIG" and isinstance(value, ast.Dict):
                    for ckey, cvalue in zip(value.keys, value.values):
                        cname = _key(ckey)
                        if cname == "hosts" and isinstance(cvalue, (ast.List, ast.Tuple)):
                            hosts = []
                            for host in cvalue.elts:
                                if not isinstance(host, ast.Dict) or [_key(k) for k in host.keys] != ["address"]:
                                    continue
                                address = host.values[0]
                                if (isinstance(address, ast.Tuple) and len(address.elts) == 2
                                        and isinstance(address.elts[0], ast.Constant)
                                        and isinstance(address.elts[0].value, str)
                                        and isinstance(address.elts[1], ast.Constant)
                                        and type(address.elts[1].value) is int):
                                    url = f"redis://{address.elts[0].value}:{address.elts[1].value}"
                                    hosts.append((_spot(document, address), url))
                            fields["tuple_hosts"] = tuple(hosts)
                        elif cname == "symmetric_encryption_keys":
                            if strings is None:
                                strings = _string_names(tree)
                            if (isinstance(cvalue, ast.Constant) and isinstance(cvalue.value, (str, bytes))) or (
                                    isinstance(cvalue, ast.Name) and cvalue.id in strings):
                                fields["key_strings"] = _spot(document, cvalue)
            layers.append(LayerFacts(alias, **fields))
    if not layers:
        return None
    lines = {line}
    for layer in layers:
        for spot in (layer.backend, layer.routing, layer.key_strings):
            if spot is not None:
                lines.add(spot.line)
        lines.update(spot.line for spot, _ in layer.tuple_hosts)
    return SettingsFacts(tuple(layers), asgi_application, assignment_line=line, assignment_end=assignment_end), lines


class ChannelLayerSettings(ProjectMatcher):
    """AFX204: a CHANNEL_LAYERS entry the allowed releases reject."""

    facts = ("channel-layers", "channels-wiring")

    def check_project(self, project) -> Iterator[Finding]:
        backends = catalogue.moves_for("backend")
        self._applications: Optional[dict[str, bool]] = None
        for facts in project.facts.get("channel-layers", ()):
            assert isinstance(facts, FileFacts)
            document = project.documents.get(facts.path)
            if document is None:
                continue
            value: SettingsFacts = facts.value
            routed = False  # one ASGI_APPLICATION per module: the next pass removes the other ROUTING keys
            for layer in value.layers:
                yield from self._backend(project, document, facts.path, layer, backends)
                yield from self._routing(project, document, facts.path, layer, value, not routed)
                routed = routed or layer.routing is not None
                yield from self._hosts(project, document, facts.path, layer)
                yield from self._keys(project, document, facts.path, layer)

    def _finding(self, document, path, spot: Spot, message, hint, fix=None, severity=None, notes=()) -> Finding:
        return Finding(self.rule.code, severity or self.rule.severity, message, path,
                       document.span(spot.start, spot.end), fix, hint, notes=tuple(notes))

    def _edit(self, document, start, end, content) -> Edit:
        return Edit(document.display, document.span(start, end), content)

    def _backend(self, project, document, path, layer: LayerFacts, backends) -> Iterator[Finding]:
        if layer.backend is None:
            return
        dead = DEAD_BACKENDS.get(layer.backend_value)
        if dead is not None:
            package, hint = dead
            if not project.allowed_versions(package) and catalogue.all_from(project.allowed_versions("channels"),
                                                                            "2.0.0"):
                yield self._finding(document, path, layer.backend,
                                    f"BACKEND `{layer.backend_value}` is a Channels 1 layer that the project does "
                                    f"not install", hint, notes=(f"in CHANNEL_LAYERS[{layer.alias!r}]",))
            return
        move = backends.get(layer.backend_value)
        if move is None:
            return
        verdict = catalogue.verdict(move, project.allowed_versions)
        if verdict.state == "fine":
            return
        label = f"BACKEND `{layer.backend_value}`"
        where = (f"in CHANNEL_LAYERS[{layer.alias!r}]",)
        if verdict.state == "straddle":
            yield self._finding(document, path, layer.backend,
                                f"{label}: the pins allow {move.old_package} releases with and without it",
                                f"pin one side, then `asgifix fix` sets `{move.new_dotted}`", severity="warning",
                                notes=where)
            return
        fix = None
        if verdict.state == "rewrite" and layer.backend_value in layer.backend.text:
            content = layer.backend.text.replace(layer.backend_value, move.new_dotted)
            fix = Fix(move.applicability, f"set BACKEND to {move.new_dotted}",
                      (self._edit(document, layer.backend.start, layer.backend.end, content),))
            hint = f"set it to `{move.new_dotted}`: {move.note}"
        else:
            hint = (f"install {move.new_package} (AFX102 replaces {move.old_package}), "
                    f"then set it to `{move.new_dotted}`")
        yield self._finding(document, path, layer.backend,
                            f"{label} cannot be imported by the Channels the pins allow", hint, fix, notes=where)

    def _routing(self, project, document, path, layer: LayerFacts, value: SettingsFacts,
                 may_add: bool = True) -> Iterator[Finding]:
        if layer.routing is None:
            return
        package, since = catalogue.change_since("routing-key-rejected")
        if not catalogue.all_from(project.allowed_versions(package), since):
            return
        message = (f"CHANNEL_LAYERS[{layer.alias!r}] has a Channels 1 `ROUTING` key: channels {since}+ raises "
                   f"InvalidChannelLayerError")
        fix = None
        removal = layer.routing_removal
        if value.asgi_application and removal is not None:
            fix = Fix("safe", "remove the ROUTING key (ASGI_APPLICATION is set)",
                      (self._edit(document, removal.start, removal.end, ""),))
            hint = "remove it: ASGI_APPLICATION already names the application"
        else:
            target = self._evident_application(project, layer.routing_value)
            if target and may_add and removal is not None and value.assignment_end >= 0:
                at = value.assignment_end
                newline = document.newline()
                before = "" if at == 0 or document.text[at - 1] in "\r\n" else newline
                fix = Fix("unsafe", f"replace the ROUTING key by ASGI_APPLICATION = {target!r}",
                          (self._edit(document, removal.start, removal.end, ""),
                           self._edit(document, at, at, f'{before}ASGI_APPLICATION = "{target}"{newline}')))
                hint = f"remove it and set ASGI_APPLICATION = {target!r} (the project's module defining `application`)"
            else:
                hint = "remove it and set ASGI_APPLICATION to the module:attribute of a ProtocolTypeRouter application"
        yield self._finding(document, path, layer.routing, message, hint, fix)

    def _evident_application(self, project, routing: str) -> Optional[str]:
        """``proj.asgi.application`` when the ROUTING string's package has exactly one module among
        ``proj.asgi`` and the routing module itself (``proj.routing``) that defines ``application`` at
        module level (a ProtocolTypeRouter wins a tie); None when that is not evident."""
        module = routing.rpartition(".")[0]
        if not module or not all(part.isidentifier() for part in routing.split(".")):
            return None
        package = module.rpartition(".")[0]
        candidates = list(dict.fromkeys([f"{package}.asgi" if package else "asgi", module]))
        from ..names import module_paths

        found: dict[str, bool] = {}  # candidate -> it builds a ProtocolTypeRouter
        for facts in project.facts.get("channels-wiring", ()):
            info = getattr(facts, "value", None)
            bindings = getattr(info, "bindings", None)
            if not bindings or "application" not in bindings:
                continue
            paths = module_paths(facts.path)
            for candidate in candidates:
                if candidate in paths:
                    routers = bool(getattr(info, "protocol_routers", None))
                    found[candidate] = found.get(candidate, False) or routers
        if len(found) == 1:
            return f"{next(iter(found))}.application"
        routers = [candidate for candidate, has in found.items() if has]
        return f"{routers[0]}.application" if len(routers) == 1 else None

    def _hosts(self, project, document, path, layer: LayerFacts) -> Iterator[Finding]:
        if not layer.tuple_hosts:
            return
        package, since = catalogue.change_since("host-address-is-a-url")
        if not catalogue.all_from(project.allowed_versions(package), since):
            return
        for spot, url in layer.tuple_hosts:
            fix = Fix("unsafe", f"write the address as {url}", (self._edit(document, spot.start, spot.end, repr(url)),))
            yield self._finding(document, path, spot,
                                f"host address `{spot.text}` is aioredis style: channels_redis {since}+ needs a URL "
                                f"(AttributeError)",
                                f"write it as {url!r}", fix)

    def _keys(self, project, document, path, layer: LayerFacts) -> Iterator[Finding]:
        spot = layer.key_strings
        if spot is None:
            return
        package, since = catalogue.change_since("encryption-keys-are-a-list")
        if not catalogue.all_from(project.allowed_versions(package), since):
            return
        fix = Fix("safe", "make symmetric_encryption_keys a list",
                  (self._edit(document, spot.start, spot.end, f"[{spot.text}]"),))
        yield self._finding(document, path, spot,
                            "`symmetric_encryption_keys` is one key: channels_redis raises ValueError "
                            "(it must be a list of keys)", f"write [{spot.text}]", fix)
