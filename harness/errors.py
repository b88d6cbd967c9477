"""One error type for bad user input: the CLI prints it as one line and exits non-zero."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class InputError(ValueError):
    """Bad input, described in one line that names the file and the field."""

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None):
        self.file = str(file) if file is not None else None
        self.field = field
        self.detail = message
        where = ""
        if self.file:
            where = self.file + (f": {field}" if field else "") + ": "
        elif field:
            where = f"{field}: "
        super().__init__(where + message)



def as_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """A list-typed task parameter as a list of names.

    Tasks type list filters as lists (``-T domain=[film,travel]``, or ``task_args`` from
    Python) and also take the comma-separated form (``-T domain=film,travel``) that the
    experiment files and older commands use. Blank names are dropped; None is empty.
    """
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [p.strip() for p in parts if p.strip()]


def check_writable_dir(path: str | Path, *, field: str, file: str | Path | None = None) -> Path:
    """Check, creating nothing, that folder `path` exists or can be created and written to.

    A file in the way or a place without write permission is an `InputError` naming `field`,
    raised before any work starts (a traceback after the work would lose it)."""
    import tempfile

    path = Path(path)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "" if probe == path else f" ('{probe}' is a file)"
        raise InputError(f"cannot use '{path}' as a folder: a file is in the way{where}",
                         file=file, field=field)
    try:  # try it (as root, os.access says yes to read-only places such as /proc)
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as ex:
        raise InputError(f"cannot write to '{path}' ({ex.strerror} in '{probe}')",
                         file=file, field=field) from None
    return path


def writable_dir(path: str | Path, *, field: str, file: str | Path | None = None) -> Path:
    """`check_writable_dir`, then create the folder (and its parents)."""
    path = check_writable_dir(path, field=field, file=file)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as ex:
        raise InputError(f"cannot create folder '{path}' ({ex.strerror})", file=file,
                         field=field) from None
    return path


def writable_file(path: str | Path, *, field: str, file: str | Path | None = None) -> Path:
    """Check that a file can be written at `path`, creating its folder if needed."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"'{path}' is a folder; give a file path", file=file, field=field)
    writable_dir(path.parent, field=field, file=file)
    return path


@contextmanager
def no_new_folders(*paths: str | Path) -> Iterator[None]:
    """On an `InputError` inside the block, remove the folders on the way to `paths` that the
    block created and left empty, so a refused command leaves nothing behind. Any other failure
    keeps them (they may hold work that a rerun resumes)."""
    new: list[Path] = []
    for path in map(Path, paths):
        while not path.exists() and path.parent != path:
            new.append(path)
            path = path.parent
    try:
        yield
    except InputError:
        for folder in sorted(set(new), key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise


def _input_error_in(ex: BaseException | None) -> InputError | None:
    """The `InputError` an uncaught exception is, or wraps as the only member of a group."""
    while isinstance(ex, BaseExceptionGroup) and len(ex.exceptions) == 1:
        ex = ex.exceptions[0]
    return ex if isinstance(ex, InputError) else None


def install_excepthook() -> None:
    """Print an uncaught `InputError` as one line (exit status 2) instead of a traceback.

    Our task functions validate their parameters by raising `InputError`; under ``inspect eval
    -T key=value`` Inspect builds the task inside a task group, and the message would otherwise
    end a traceback of some 260 lines. Every other exception goes to the previous hook."""
    import sys

    previous = sys.excepthook
    if getattr(previous, "_msm_input_errors", False):
        return

    def hook(kind, value, tb):
        error = _input_error_in(value)
        if error is None:
            return previous(kind, value, tb)
        sys.stderr.write(f"error: {error}\n")
        sys.stderr.flush()
        sys.exit(2)

    hook._msm_input_errors = True  # type: ignore[attr-defined]
    sys.excepthook = hook


def one_line(ex: BaseException) -> str:
    """An exception's message on one line, without rich markup (Inspect's PrerequisiteError
    carries ``[bold]`` tags and a line break before the install command)."""
    message = getattr(ex, "message", None) or str(ex) or type(ex).__name__
    message = str(message)
    from rich.errors import MarkupError
    from rich.text import Text

    try:
        message = Text.from_markup(message).plain
    except MarkupError:  # brackets that are not markup: keep the text as it is
        pass
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def closest(name: str, valid) -> str | None:
    """The valid name a misspelt `name` most likely meant, or None (difflib, ratio >= 0.6)."""
    import difflib

    close = difflib.get_close_matches(name, sorted(map(str, valid)), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, valid) -> str:
    """``; did you mean 'x'?`` for the closest valid name, else the list of valid names."""
    valid = sorted(map(str, valid))
    if (close := closest(name, valid)) is not None:
        return f"; did you mean '{close}'?"
    shown = ", ".join(valid[:15]) + (f", ... ({len(valid)} in all)" if len(valid) > 15 else "")
    return f" (one of: {shown})"
