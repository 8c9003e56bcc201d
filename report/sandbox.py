"""The template sandbox: templates get data, not capabilities, and their work is metered.

Every template (shipped or a dossier's own ``templates/``) runs in this environment:

- Attribute access is an allow-list: only plain data (text, numbers, dates, tuples, lists,
  dicts) and the builder's frozen view objects (Book, ChapterView, ...) can be read, and
  only attributes whose *value* is such data (or a method of such an object). A Path, a
  Language, bytes, a type or a module is never handed out, so no template can read,
  write or list a file, start a process or reach Python's internals.
- Work is metered per rendered document: loop iterations and calls spend operations,
  printed values, loop bodies and included templates spend output characters, and every
  value a template computes (``*``, ``**``, ``+``, ``%``, ``~``, calls, namespaces) is bounded
  in size before it is made. Past a budget the render stops with a located error.
- Template files are regular files of at most 1 MiB inside their search folders.

Jinja2's ImmutableSandboxedEnvironment already refuses ``_``-prefixed attributes, known
internals and mutating methods of lists, dicts and sets; this policy narrows it further.
"""

from __future__ import annotations

import contextvars
import math
import os
import re
import stat
import types
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference, markup_join, str_join
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
    SecurityError,
)
from jinja2.utils import Cycler, Joiner, Namespace
from markupsafe import Markup

from .errors import Diagnostic, Location, SourceError

MAX_TEMPLATE_BYTES = 1024 * 1024
MAX_OPERATIONS = 5_000_000  # loop iterations and calls in one document
MAX_VALUE = 16_000_000  # characters or items of one value a template computes
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MIN_OUTPUT = 64_000_000  # characters one document may print, beside 4x the dossier's own text

_DATE_ATTRIBUTES = {
    "year",
    "month",
    "day",
    "isoformat",
    "weekday",
    "isoweekday",
    "toordinal",
    "hour",
    "minute",
    "second",
}
_PRINTF_NUMBER = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC_NUMBERS = re.compile(r"\d+")
_METHODS = (types.MethodType, types.BuiltinMethodType)


class BoundedNamespace(Namespace):
    """``namespace()`` whose attributes are bounded like every other value a template makes."""

    def __setitem__(self, name: str, value: Any) -> None:
        _check_size(value)
        super().__setitem__(name, value)


def _bounded_namespace(*args: Any, **kwargs: Any) -> BoundedNamespace:
    return BoundedNamespace(*args, **kwargs)


@dataclass
class _Budget:
    operations: int = 0
    output: int = 0
    output_limit: int = MIN_OUTPUT


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("report_template_budget", default=None)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:  # rendering outside `metered()`: still bounded, with the default limits
        budget = _Budget()
        _BUDGET.set(budget)
    return budget


def _spend(operations: int = 0, output: int = 0) -> None:
    budget = _budget()
    budget.operations += operations
    budget.output += output
    if budget.operations > MAX_OPERATIONS:
        raise SecurityError(
            f"the template does more than {MAX_OPERATIONS:,} loop iterations and calls for one document"
        )
    if budget.output > budget.output_limit:
        raise SecurityError(f"the template prints more than {budget.output_limit:,} characters for one document")


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes, tuple, list, dict, set, frozenset)):
        return len(value)
    return 0


def _check_size(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise SecurityError(f"a number of more than {MAX_INT_BITS:,} bits")
    if _size(value) > MAX_VALUE:
        raise SecurityError(f"a value of more than {MAX_VALUE:,} characters or items")


def _check_count(count: Any, what: str) -> None:
    if isinstance(count, int) and count > MAX_VALUE:
        raise SecurityError(f"{what} {count:,} is more than the limit of {MAX_VALUE:,}")


def _check_printf(template: str, values: Any) -> None:
    """`"%5s" % x`: widths and precisions (written, or taken from the values by `*`) are bounded."""
    for match in _PRINTF_NUMBER.finditer(template):
        for number in match.groups():
            if number and number != "*":
                _check_count(int(number), "a width of")
    if "*" in template:
        for value in values if isinstance(values, tuple) else (values,):
            _check_count(value if isinstance(value, int) else 0, "a width of")


class _BoundedFormatter(SandboxedFormatter):
    """`"{:>9}".format(x)`: the width and precision of each field are bounded."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        for number in _SPEC_NUMBERS.findall(format_spec):
            _check_count(int(number), "a width of")
        return super().format_field(value, format_spec)


class _BoundedEscapeFormatter(_BoundedFormatter, SandboxedEscapeFormatter):
    """The same for `Markup.format`, which escapes what it puts in (as Jinja2's own does)."""


def _bounded_call_arguments(target: Any, args: tuple, kwargs: dict) -> None:
    """Refuse, before the call, the methods whose result grows with an argument."""
    name = getattr(target, "__name__", "")
    owner = getattr(target, "__self__", None)
    if isinstance(owner, str):
        if name in ("center", "ljust", "rjust", "zfill") and args:
            _check_count(args[0], "a width of")
        elif name == "expandtabs":
            tab = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tab, int):
                _check_count(owner.count("\t") * tab, "a result of")
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            hits = owner.count(args[0]) if args[0] else len(owner) + 1
            _check_count(len(owner) + hits * len(args[1]), "a result of")
    elif isinstance(owner, int) and name == "to_bytes" and args:
        _check_count(args[0], "a length of")
    for value in (*args, *kwargs.values()):
        _check_size(value)


def _wrap_filter(name: str, function: Any) -> Any:
    """The built-in filters whose result grows with an argument, bounded."""

    def check(args: tuple, kwargs: dict) -> None:
        values = args[1:] if getattr(function, "jinja_pass_arg", None) else args  # skip the env/context
        subject = values[0] if values else None
        rest = values[1:]
        if name == "format" and isinstance(subject, str):
            _check_printf(subject, tuple(rest) or tuple(kwargs.values()))
        elif name in ("center", "batch", "slice", "truncate", "wordwrap", "indent"):
            # a number is a width or a count; a text (indent's prefix, wordwrap's break) may be
            # repeated once per character of the subject at most
            length = len(str(subject)) + 1
            for value in (*rest, *kwargs.values()):
                _check_count(
                    value if isinstance(value, int) else len(value) * length if isinstance(value, str) else 0,
                    "a size of",
                )
        elif name == "replace" and isinstance(subject, str) and len(rest) >= 2:
            old, new = str(rest[0]), str(rest[1])
            hits = subject.count(old) if old else len(subject) + 1
            _check_count(len(subject) + hits * len(new), "a result of")

    def bounded(*args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        _spend(operations=1)
        result = function(*args, **kwargs)
        _check_size(result)
        return result

    bounded.__name__ = getattr(function, "__name__", name)
    if hasattr(function, "jinja_pass_arg"):
        bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


class _MeteredCodeGenerator(CodeGenerator):
    """Compiled templates spend the budget on every loop iteration and bound every `~`."""

    def visit_For(self, node: nodes.For, frame: Any) -> None:
        literal = sum(len(data.data) for data in node.find_all(nodes.TemplateData))
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("metered_iter"),
            [node.iter, nodes.Const(literal)],
            [],
            None,
            None,
            lineno=node.iter.lineno,
        )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        if frame.eval_ctx.volatile:
            escape = "context.eval_ctx.autoescape"
        else:
            escape = repr(bool(frame.eval_ctx.autoescape))
        self.write(f"environment.bounded_concat({escape}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _TemplateFiles(jinja2.FileSystemLoader):
    """Templates are regular files of bounded size that stay inside their folder."""

    def get_source(self, environment: jinja2.Environment, template: str):
        parts = jinja2.loaders.split_template_path(template)  # refuses '..' before any file is looked at
        for folder in self.searchpath:
            candidate = Path(folder).joinpath(*parts)
            try:
                info = os.lstat(candidate)
            except (OSError, ValueError):
                continue
            path = candidate
            if stat.S_ISLNK(info.st_mode):
                if not candidate.resolve().is_relative_to(Path(folder).resolve()):
                    raise SourceError(
                        [
                            Diagnostic(
                                Location(path), "template is a link to a file outside its folder", field="templates"
                            )
                        ]
                    )
                info = os.stat(candidate)
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):  # a FIFO would block the build forever
                raise SourceError([Diagnostic(Location(path), "template is not a regular file", field="templates")])
            if info.st_size > MAX_TEMPLATE_BYTES:
                raise SourceError(
                    [
                        Diagnostic(
                            Location(path),
                            f"template is {info.st_size:,} bytes; the limit is {MAX_TEMPLATE_BYTES:,}",
                            field="templates",
                        )
                    ]
                )
            break
        return super().get_source(environment, template)


class DataOnlyEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, narrowed to data and metered (see the module's docstring)."""

    code_generator_class = _MeteredCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, searchpath: list[str], data_types: tuple[type, ...], **options: Any):
        super().__init__(loader=_TemplateFiles(searchpath), finalize=self._finalize, **options)
        # the view objects of the builder, and Jinja2's own runtime helpers, besides plain data
        self.data_types = (str, int, float, tuple, list, dict, frozenset, set, date, type(None), *data_types)
        self.object_types = (
            *self.data_types,
            LoopContext,
            Macro,
            Cycler,
            Joiner,
            Namespace,
            TemplateReference,
            BlockReference,
            jinja2.Undefined,
        )
        self.globals.pop("lipsum", None)  # makes text of any requested size
        self.globals["namespace"] = _bounded_namespace
        self.filters = {name: _wrap_filter(name, function) for name, function in self.filters.items()}
        self._template_sizes: dict[str, int] = {}
        self._decided: dict[tuple, bool] = {}
        self._objects: dict[type, bool] = {}
        self._printable: dict[type, bool] = {}

    # ---- what a template may touch --------------------------------------------------------

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # the answer depends on types and the name only: decided once per combination
        owner = getattr(value, "__self__", None) if isinstance(value, _METHODS) else None
        key = (type(obj), attr, type(value), type(owner))
        known = self._decided.get(key)
        if known is None:
            known = self._decided[key] = self._decide_attribute(obj, attr, value)
        return known

    def _decide_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if not self._is_object(obj):
            return False
        if isinstance(obj, date) and attr not in _DATE_ATTRIBUTES:  # no today(), now(), fromtimestamp()
            return False
        return self._is_data(value)

    def _is_object(self, obj: Any) -> bool:
        """May a template read attributes of (or subscript) this object at all?"""
        kind = type(obj)
        known = self._objects.get(kind)
        if known is None:
            known = self._objects[kind] = isinstance(obj, self.object_types) and not isinstance(obj, type)
        return known

    def _is_data(self, value: Any) -> bool:
        if isinstance(value, type):
            return False
        if isinstance(value, self.object_types):
            return True
        if isinstance(value, _METHODS):
            owner = getattr(value, "__self__", None)
            return isinstance(owner, self.object_types) and not isinstance(owner, type)
        return False

    def getitem(self, obj: Any, argument: Any) -> Any:
        if not self._is_object(obj):  # dict['x'] is a generic alias
            raise SecurityError(f"a template cannot read {argument!r} of a {type(obj).__name__}")
        return super().getitem(obj, argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if not self._is_object(obj):
            raise SecurityError(f"a template cannot read {attribute!r} of a {type(obj).__name__}")
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        """Refuse at once (Jinja2 returns an Undefined that a filter such as `map` would print)."""
        raise SecurityError(
            f"a template cannot read {attribute!r} of a {type(obj).__name__} (templates get "
            "text, numbers, dates and lists of them, nothing else)"
        )

    def is_safe_callable(self, obj: Any) -> bool:
        # of the classes, only the helpers Jinja2 hands every template may be called: dict(a=1), cycler(...)
        return super().is_safe_callable(obj) and (not isinstance(obj, type) or obj in (dict, Cycler, Joiner))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja2's)
        _spend(operations=1)
        _bounded_call_arguments(getattr(__obj, "__wrapped__", __obj), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        _check_size(result)
        return result

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        owner: str = value.__self__
        formatter: SandboxedFormatter
        if isinstance(owner, Markup):
            formatter = _BoundedEscapeFormatter(self, escape=owner.escape)
        else:
            formatter = _BoundedFormatter(self)
        is_format_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                return type(owner)(formatter.vformat(owner, (), args[0]))
            return type(owner)(formatter.vformat(owner, args, kwargs))

        bounded.__name__ = value.__name__
        return bounded

    # ---- bounded operators and metered loops ------------------------------------------------

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _spend(operations=1)
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and right * math.log2(abs(left)) > MAX_INT_BITS:
                raise SecurityError(f"{left} ** {right} has more than {MAX_INT_BITS:,} bits")
        elif operator == "*":
            for sized, count in ((left, right), (right, left)):
                if _size(sized) and isinstance(count, int):
                    _check_count(_size(sized) * count, "a result of")
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise SecurityError(f"a product of more than {MAX_INT_BITS:,} bits")
        elif operator == "+":
            _check_count(_size(left) + _size(right), "a result of")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        result = super().call_binop(context, operator, left, right)
        _check_size(result)
        return result

    def metered_iter(self, iterable: Any, literal_size: int) -> Any:
        for item in iterable:
            _spend(operations=1, output=literal_size)
            yield item

    def bounded_concat(self, autoescape: bool, parts: tuple) -> Any:
        total = 0
        texts = []
        for part in parts:
            texts.append(part if isinstance(part, str) else str(part))
            total += len(texts[-1])
            _check_count(total, "a text of")
        return markup_join(parts) if autoescape else str_join(texts)

    def _finalize(self, value: Any) -> Any:
        """Every printed value: data only (never a function's or a helper's repr), and counted."""
        kind = type(value)
        printable = self._printable.get(kind)
        if printable is None:
            printable = self._printable[kind] = isinstance(
                value, (*self.data_types, Namespace, jinja2.Undefined)
            ) and not isinstance(value, type)
        if not printable:  # a repr such as <Cycler object at 0x7f...> would also change from build to build
            raise SecurityError(
                f"a template can print text, numbers and dates, not a {kind.__name__} "
                "(a function, a method or a helper object)"
            )
        if isinstance(value, str):
            _spend(output=len(value))
        return value

    def _load_template(self, name: str, globals: Any) -> jinja2.Template:
        template = super()._load_template(name, globals)
        size = self._template_sizes.get(name)
        if size is None:
            try:
                size = os.stat(template.filename).st_size if template.filename else 0
            except OSError:
                size = 0
            self._template_sizes[name] = size
        _spend(operations=1, output=size)  # an include in a loop prints the template's text each time
        return template

    # ---- one budget per document ----------------------------------------------------------

    def render_metered(self, name: str, context: dict, *, text_size: int = 0) -> str:
        """Render one document with a fresh budget; output may be 4x the dossier's text plus 64 M."""
        token = _BUDGET.set(_Budget(output_limit=MIN_OUTPUT + 4 * text_size))
        try:
            return self.get_template(name).render(context)
        finally:
            _BUDGET.reset(token)
