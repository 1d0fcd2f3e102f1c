"""HCL diagnostics: severity, summary, detail and a located subject, printed with a source excerpt."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from imagesmith.errors import ImagesmithError
from imagesmith.hcl2.source import Range

ERROR = "error"
WARNING = "warning"


@dataclass
class Diagnostic:
    """One problem found while parsing or evaluating, as Go HCL's ``hcl.Diagnostic``."""

    summary: str
    detail: str = ""
    subject: Range | None = None
    context: Range | None = None
    severity: str = ERROR

    def location(self) -> str:
        """``file:line:col`` of the subject, or "" when the problem has no place."""
        if self.subject is None:
            return ""
        p = self.subject.start_pos
        return f"{self.subject.filename}:{p.line}:{p.column}"

    def format(self) -> str:
        """The diagnostic as Packer prints it, with the offending source line underlined."""
        head = f"{self.severity.capitalize()}: {self.summary}"
        lines = [head, ""]
        if self.subject is not None:
            lines.append(f"  on {self.location()}:")
            lines.extend(_excerpt(self.subject))
            lines.append("")
        if self.detail:
            lines.append(self.detail)
        return "\n".join(lines).rstrip("\n")

    def __str__(self) -> str:
        where = self.location()
        text = f"{self.summary}; {self.detail}" if self.detail else self.summary
        return f"{where}: {text}" if where else text


def _excerpt(rng: Range) -> list[str]:
    start, end = rng.start_pos, rng.end_pos
    text = rng.source.line_text(start.line)
    if not text and start.line != end.line:
        return []
    out = [f"  {start.line:>4}: {text}"]
    first = start.column - 1
    last = end.column - 1 if end.line == start.line else len(text)
    width = max(1, last - first)
    out.append("        " + " " * first + "^" * width)
    return out


class Diagnostics(list[Diagnostic]):
    """A list of diagnostics, with helpers to ask whether any is an error."""

    def has_errors(self) -> bool:
        return any(d.severity == ERROR for d in self)

    def has_errors_since(self, mark: int) -> bool:
        """Whether an error was added after the first ``mark`` diagnostics."""
        if len(self) <= mark:
            return False
        return any(d.severity == ERROR for d in self[mark:])

    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == ERROR]

    def add(self, summary: str, detail: str, subject: Range | None, context: Range | None = None) -> None:
        self.append(Diagnostic(summary, detail, subject, context))


class HCLError(ImagesmithError):
    """Raised when a file or an expression has errors; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = Diagnostics(diagnostics)
        text = "\n\n".join(d.format() for d in self.diagnostics.errors() or self.diagnostics)
        super().__init__(text)


def raise_if_errors(diags: Diagnostics) -> None:
    """Raise :class:`HCLError` if ``diags`` holds an error."""
    if diags.has_errors():
        raise HCLError(diags)
