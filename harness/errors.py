"""One error type for bad user input: the CLI prints it as one line and exits non-zero."""

from __future__ import annotations

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
