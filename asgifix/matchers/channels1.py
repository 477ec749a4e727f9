"""AFX205: Channels 1 APIs with no mechanical successor, and asgiref.local.Local subclasses.

Each is a diagnostic that says what replaces it (rules/data/moves.toml ``[[removed]]``; which
releases define each name is read from every release by scripts/build_knowledge.py). Python
modules: imports of removed names (through :mod:`asgifix.names`), ``message.reply_channel`` and
friends in functions that take a ``message``, a module-level ``channel_routing``, classes deriving
from ``asgiref.local.Local``. Procfiles, compose files and scripts: ``daphne proj.asgi:channel_layer``
and ``runworker`` without channel names.
"""

from __future__ import annotations

import ast
from ..records import dataclass
from typing import Iterator, Optional

from .. import moves as catalogue
from ..model import Finding, Span
from ..names import names_of
from . import FileFacts, ProjectMatcher

MESSAGE_ATTRIBUTES = ("reply_channel", "content", "channel_session", "http_session")
_RUNWORKER_OPTIONS_WITH_VALUE = ("--layer", "--settings", "--pythonpath", "-v", "--verbosity")


@dataclass(frozen=True)
class Use:
    what: str  # a removed dotted name, "message.<attr>", "channel_routing", "local-subclass",
    # "daphne-channel-layer", "runworker"
    line: int
    column: int  # 1-based, characters
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True)
class Channels1Facts:
    uses: tuple[Use, ...]


def _use(what: str, document, node: ast.AST, text: str) -> Use:
    from ..sources.python_asgiref import CharPositions

    line, column, end_line, end_column = CharPositions(document).of(node)
    return Use(what, line, column, end_line, end_column, text)


def _python(parsed) -> list[Use]:
    from ..sources.python_asgiref import CharPositions

    document = parsed.document
    names = names_of(parsed)
    table = catalogue.removed()
    uses: list[Use] = []
    for binding in names.imports:
        if binding.kind == "from" and binding.target in table and not binding.guarded and not binding.fallback:
            positions = CharPositions(document)
            uses.append(Use(binding.target, binding.line, positions.column(binding.line, binding.column),
                            binding.end_line, positions.column(binding.end_line, binding.end_column),
                            f"{binding.module} import {binding.name}"))
    imports_channels1 = bool(uses)  # the module imports a removed Channels 1 name
    local_names = set(names.locals_for("asgiref.local.Local"))
    text = document.text
    wants_message = "message." in text and any(a in text for a in MESSAGE_ATTRIBUTES)
    top = {id(node) for node in parsed.tree.body}
    from ..sources.pruning import statements

    # (the nodes looked at below are statements: their walk skips every expression)
    for node in parsed.tree.body if not (wants_message or local_names) else statements(parsed.tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and id(node) in top:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "channel_routing" for t in targets):
                uses.append(_use("channel_routing", document, node, "channel_routing"))
        elif isinstance(node, ast.ClassDef) and local_names:
            for base in node.bases:
                if names.resolve(base) == "asgiref.local.Local":
                    uses.append(_use("local-subclass", document, node, node.name))
        elif wants_message and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # A Channels 1 consumer is a function whose first argument is the message
            # (`def ws_connect(message)`); `def to_json(self, message)` takes a model instance.
            arguments = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            if arguments[:1] != ["message"]:
                continue
            found = [inner for inner in ast.walk(node)
                     if isinstance(inner, ast.Attribute) and inner.attr in MESSAGE_ATTRIBUTES
                     and isinstance(inner.value, ast.Name) and inner.value.id == "message"]
            # `message.content` alone is as likely a model field: it counts beside a Channels 1
            # attribute no model has, `message["text"]`, a decorator, or Channels 1 imports.
            channels1 = (bool(node.decorator_list) or imports_channels1
                         or any(inner.attr != "content" for inner in found)
                         or any(isinstance(inner, ast.Subscript) and isinstance(inner.value, ast.Name)
                                and inner.value.id == "message" for inner in ast.walk(node)))
            for inner in found:
                if inner.attr != "content" or channels1:
                    uses.append(_use(f"message.{inner.attr}", document, inner, f"message.{inner.attr}"))
    return uses


def _commands(model) -> list[Use]:
    from ..sources.server_config import _tokens, server_commands

    document = model.document
    uses = []
    for command in server_commands(model, ["daphne"]):
        if command.text.rsplit(":", 1)[-1] == "channel_layer":
            line, column = document.position(command.start)
            uses.append(Use("daphne-channel-layer", line, column, line, column + len(command.server), command.text))
    for number in range(1, document.line_count + 1):
        line_text = document.line_text(number)
        if "runworker" not in line_text or line_text.lstrip().startswith(("#", "//", ";")):
            continue  # a commented-out command runs nothing
        tokens = list(_tokens(line_text))
        for index, (value, start, end) in enumerate(tokens):
            if value != "runworker":
                continue
            channels, skip = [], False
            for argument, _, _ in tokens[index + 1:]:
                if argument in ("&&", "||", ";", "|", "&"):
                    break
                if skip:
                    skip = False
                    continue
                if argument.startswith("-"):
                    skip = argument in _RUNWORKER_OPTIONS_WITH_VALUE
                    continue
                channels.append(argument)
            if not channels:
                uses.append(Use("runworker", number, start + 1, number, end + 1, "runworker"))
    return uses


def collect_channels1(parsed) -> Optional[tuple[Channels1Facts, set[int]]]:
    if getattr(parsed, "tree", None) is not None:
        uses = _python(parsed)
    elif type(parsed).__name__ == "ServerConfig":
        uses = _commands(parsed)
    else:
        return None
    if not uses:
        return None
    return Channels1Facts(tuple(uses)), {u.line for u in uses}


# what -> (package whose allowed releases decide, target or change id, message, replacement)
_FIXED = {
    "channel_routing": ("channels", "channels.routing:route",
                        "`channel_routing` is Channels 1 routing: channels 2+ reads ASGI_APPLICATION instead",
                        "define application = ProtocolTypeRouter({...}) and point ASGI_APPLICATION at it"),
    "daphne-channel-layer": ("daphne", "change:daphne-serves-an-application",
                             "daphne 2+ serves an ASGI application, not a channel layer: `{text}` fails (TypeError)",
                             "serve the application: daphne proj.asgi:application"),
    "runworker": ("channels", "change:runworker-needs-channels",
                  "`runworker` without channel names: channels 2+ requires them and has no general worker",
                  "drop the worker process, or name the ChannelNameRouter channels it serves"),
    "local-subclass": ("asgiref", "change:local-cannot-be-subclassed",
                       "class `{text}` subclasses asgiref.local.Local: asgiref 3.13.0+ raises TypeError when it is "
                       "instantiated",
                       "use composition: keep a Local() in an attribute or module global and read/write through it"),
}


class Channels1Api(ProjectMatcher):
    """AFX205: a Channels 1 API (or a Local subclass) that the allowed releases do not have."""

    facts = ("channels1-usage",)

    def check_project(self, project) -> Iterator[Finding]:
        table = catalogue.removed()
        cache: dict[str, Optional[str]] = {}
        for facts in project.facts.get("channels1-usage", ()):
            assert isinstance(facts, FileFacts)
            for use in facts.value.uses:
                judged = self._judge(project, use, table, cache)
                if judged is None:
                    continue
                severity, message, hint = judged
                span = Span(0, 0, use.line, use.column, use.end_line, use.end_column)
                yield Finding(self.rule.code, severity, message, facts.path, span, None, hint)

    def _state(self, project, package: str, target: str, cache) -> Optional[str]:
        key = f"{package}|{target}"
        if key not in cache:
            allowed = project.allowed_versions(package)
            if target.startswith("change:"):
                _, since = catalogue.change_since(target[7:])
                if not allowed:
                    cache[key] = "unknown"
                elif catalogue.all_from(allowed, since):
                    cache[key] = "gone"
                else:
                    from packaging.version import Version

                    cache[key] = "some" if any(Version(v) >= Version(since) for v in allowed) else "all"
            else:
                cache[key] = catalogue.presence(package, target, allowed)
        return cache[key]

    def _judge(self, project, use: Use, table, cache) -> Optional[tuple[str, str, str]]:
        if use.what in table:
            entry = table[use.what]
            package, target = entry.package, entry.target
            message = f"`{use.what}` is Channels 1 API, gone from channels 2.0.0 on"
            hint = f"replace it with {entry.replacement}"
        elif use.what.startswith("message."):
            entry = table["channels.message.Message"]
            package, target = entry.package, entry.target
            message = f"`{use.text}` is a Channels 1 message attribute: channels 2+ consumers get no message object"
            hint = f"port to {entry.replacement}"
        else:
            package, target, message, hint = _FIXED[use.what]
            message = message.format(text=use.text)
        state = self._state(project, package, target, cache)
        if state in ("unknown", "all"):
            return None
        if state == "some":
            return "warning", message + " (the pins also allow releases that have it)", hint
        return self.rule.severity, message, hint
