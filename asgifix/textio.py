"""Reading, position mapping and atomic writing of project files.

A file is decoded once into a :class:`TextDocument` that keeps everything needed
to write it back byte for byte: the encoding, whether it had a BOM, and the text
with its original line endings (no newline translation ever happens). Fixes are
applied as character-offset edits to that text and encoded back the same way,
so bytes outside an edit never change.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
import stat
from bisect import bisect_right
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .model import Span

# Byte order marks of the wide encodings, in the order pip's requirements reader tries
# them (req_file.BOMS; tests/test_pip_grammar.py checks it against the recorded pips).
# The native-order "utf-16"/"utf-32" codecs pip uses also swallow a second mark.
_NATIVE = "le" if sys.byteorder == "little" else "be"
_WIDE_BOMS = (
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_BOM_OF = {
    "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE,
    "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
}


def _wide_decoding(raw: bytes, mark: bytes, encoding: str) -> tuple[bytes, str]:
    """The bytes before the text and the explicit-order codec, as pip's decoding reads them."""
    if encoding not in ("utf-16", "utf-32"):
        return mark, encoding
    body = raw[len(mark):]
    for order in ("le", "be"):
        second = _BOM_OF[f"{encoding}-{order}"]
        if body.startswith(second):
            return mark + second, f"{encoding}-{order}"
    return mark, f"{encoding}-{_NATIVE}"


_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


class DecodeProblem(Exception):
    """The file's bytes are not text in the encoding it declares (or UTF-8)."""


class TextDocument:
    """A decoded file plus what is needed to encode it back unchanged."""

    __slots__ = ("path", "display", "raw", "text", "encoding", "bom", "_line_starts")

    def __init__(self, path: Path, display: str, raw: bytes, text: str, encoding: str, bom: bool):
        self.path = path
        self.display = display
        self.raw = raw
        self.text = text
        self.encoding = encoding
        self.bom = bom
        self._line_starts: Optional[list[int]] = None

    # -- decoding -----------------------------------------------------------------
    @classmethod
    def decode(cls, path: Path, display: str, raw: bytes, *, python: bool = False,
               wide: bool = False) -> "TextDocument":
        """Decode ``raw`` the way the consuming tool would.

        Python files honour PEP 263 coding cookies (what the interpreter does);
        other files honour a BOM or a cookie in the first two lines (what pip's
        requirements reader does) and are otherwise UTF-8; with ``wide`` (requirements
        files) a UTF-16/32 BOM is honoured too.
        """
        if wide:
            # pip reads a requirements file in UTF-16/32 with a BOM (what Windows PowerShell's
            # `pip freeze > requirements.txt` writes); TOML, setup.cfg and Python must be UTF-8.
            for mark, encoding in _WIDE_BOMS:
                if raw.startswith(mark):
                    prefix, encoding = _wide_decoding(raw, mark, encoding)
                    bom = prefix if prefix != _BOM_OF[encoding] else True
                    try:
                        return cls(path, display, raw, raw[len(prefix):].decode(encoding), encoding, bom)
                    except UnicodeDecodeError as exc:
                        raise DecodeProblem(f"is not valid {encoding} after its byte order mark ({exc.reason})") from None
        bom = raw.startswith(codecs.BOM_UTF8)
        body = raw[len(codecs.BOM_UTF8):] if bom else raw
        encoding = "utf-8"
        if not bom:
            declared = _declared_encoding(body)
            if declared is not None:
                encoding = declared
        elif python:
            declared = _declared_encoding(body)
            if declared is not None and codecs.lookup(declared).name != "utf-8":
                raise DecodeProblem(f"has a UTF-8 BOM but declares encoding {declared!r}")
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            line = body.count(b"\n", 0, exc.start) + 1
            raise DecodeProblem(
                f"line {line}: byte 0x{body[exc.start]:02x} is not valid {encoding}"
                + ("" if encoding != "utf-8" else " (declare the encoding or re-save the file as UTF-8)")
            ) from None
        except LookupError:
            raise DecodeProblem(f"declares an unknown encoding {encoding!r}") from None
        return cls(path, display, raw, text, encoding, bom)

    def encode(self, text: Optional[str] = None) -> bytes:
        data = (self.text if text is None else text).encode(self.encoding)
        if isinstance(self.bom, bytes):  # the marks as the file had them (a doubled one)
            return self.bom + data
        return _BOM_OF.get(self.encoding, codecs.BOM_UTF8) + data if self.bom else data

    def with_text(self, text: str) -> "TextDocument":
        return TextDocument(self.path, self.display, self.encode(text), text, self.encoding, self.bom)

    # -- positions ----------------------------------------------------------------
    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            text = self.text
            # Any of \n, \r\n, \r ends a line, as for Python's tokenizer and pip.
            for match in re.finditer(r"\r\n|\r|\n", text):
                starts.append(match.end())
            self._line_starts = starts
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; columns count code points."""
        index = bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based (line, column)."""
        return self.line_starts[line - 1] + column - 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line ending."""
        starts = self.line_starts
        if line < 1 or line > len(starts):
            return ""
        start = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def span(self, start: int, end: int) -> "Span":
        """A :class:`~asgifix.model.Span` for character offsets ``start`` to ``end``."""
        from .model import Span

        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(start, end, line, column, end_line, end_column)

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def newline(self) -> str:
        """The file's dominant line ending (LF, CRLF or a lone CR), for text that a fix inserts."""
        text = self.text
        crlf = text.count("\r\n")
        lf = text.count("\n") - crlf
        cr = text.count("\r") - crlf
        if cr > lf and cr > crlf:
            return "\r"
        return "\r\n" if crlf > lf else "\n"

    def round_trips(self) -> bool:
        """Whether encoding the text back gives the file's bytes (UTF-8 always does; UTF-7 may not)."""
        if self.encoding == "utf-8":
            return True
        return self.encode() == self.raw


def _declared_encoding(body: bytes) -> Optional[str]:
    for line in body.split(b"\n", 2)[:2]:
        match = _CODING_COOKIE.match(line)
        if match:
            name = match.group(1).decode("ascii", "replace")
            try:
                found = codecs.lookup(name).name
            except LookupError:
                raise DecodeProblem(f"declares an unknown encoding {name!r}") from None
            # utf-8-sig reads UTF-8 with or without a BOM; encoding with it would add one.
            # Whether the file has a BOM is decode()'s business.
            return "utf-8" if found == "utf-8-sig" else found
        if line.strip() and not line.lstrip().startswith(b"#"):
            break
    return None


class FileTooBig(OSError):
    """The file is bigger than the size cap the caller gave: it is not read."""

    def __init__(self, size: int, limit: int):
        super().__init__(f"file too big to check ({size // (1024 * 1024)} MiB; the limit is "
                         f"{limit // (1024 * 1024)} MiB)")
        self.size = size


def read_bytes(path: "str | os.PathLike[str]", limit: Optional[int] = None) -> bytes:
    """The file's bytes, with plain system calls (no buffered file object: half the cost per file).

    With ``limit``, a file bigger than that many bytes raises :class:`FileTooBig` unread.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        if limit is not None and size > limit:
            raise FileTooBig(size, limit)
        chunk = os.read(fd, size + 1 if size else 65536)
        if len(chunk) == size:  # the whole file (asking for one byte more saw its end)
            return chunk
        chunks = [chunk]
        while chunk:
            chunk = os.read(fd, 65536)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half.

    The file's permission bits are kept. The temporary file lives in the same
    directory so the final rename never crosses a file system. A symbolic link
    (a file named on the command line may be one) stays a link: the file it
    points to is replaced.
    """
    path = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o644
    directory = path.parent
    import tempfile  # only a fix writes; tempfile costs ~5 ms to import

    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".asgifix-tmp", dir=directory)
    try:
        with io.open(fd, "wb", closefd=True) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise


class WriteRefused(Exception):
    """A fixed file that must not replace the one on disk; the message is one line saying why.

    ``fatal``: the refusal protects something outside the project (a path swapped for a
    symbolic link), not just the file's own state.
    """

    def __init__(self, message: str, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
# (os.replace takes src_dir_fd/dst_dir_fd where os.rename does: supports_dir_fd lists only rename)
_CAN_OPENAT = all(f in os.supports_dir_fd for f in (os.open, os.rename, os.stat, os.unlink)) and hasattr(os, "O_NOFOLLOW")


def write_within(root: str, path: "str | os.PathLike[str]", data: bytes, expected: bytes) -> None:
    """Atomically replace ``path`` (under the real directory ``root``) with ``data``, or refuse.

    * Every path component is opened relative to ``root`` without following symbolic
      links (``openat``-style): a directory swapped for a link while asgifix ran, or a
      link to outside the root, is never written through (``WriteRefused``, fatal).
    * Right before the replace, the file must still hold ``expected`` (what was read and
      fixed) and still be the same inode: an edit made meanwhile is not overwritten, and
      a file deleted meanwhile is not re-created.
    * Owner, group and permission bits are kept; a read-only file (no write bit) and a
      file with several hard links (a replace would split them) are refused.
    """
    real = os.path.realpath(path)
    if not _inside(real, root):
        raise WriteRefused("the file is outside the project root (reached through a symbolic link)", fatal=True)
    parts = os.path.relpath(real, root).split(os.sep)
    if not _CAN_OPENAT:  # pragma: no cover - platforms without openat (Windows)
        _write_by_path(Path(real), data, expected)
        return
    import errno

    opened: list[int] = []
    try:
        directory = os.open(root, _DIR_FLAGS)
        opened.append(directory)
        for part in parts[:-1]:
            try:
                directory = os.open(part, _DIR_FLAGS, dir_fd=directory)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise WriteRefused(f"{part}/ was replaced by a symbolic link or a file while asgifix ran; "
                                       f"not written", fatal=True) from None
                if exc.errno == errno.ENOENT:
                    raise WriteRefused(f"{part}/ was removed while asgifix ran; not re-created") from None
                raise
            opened.append(directory)
        _replace_at(directory, parts[-1], data, expected)
    finally:
        for fd in reversed(opened):
            os.close(fd)


def _current(directory: int, name: str, expected: bytes) -> os.stat_result:
    """The file's status, after checking that it may be replaced (see :func:`write_within`)."""
    import errno

    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=directory)
    except FileNotFoundError:
        raise WriteRefused("the file was deleted while asgifix ran; not re-created") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise WriteRefused("the file was replaced by a symbolic link while asgifix ran; not written",
                               fatal=True) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise WriteRefused("the file is no longer a regular file; not written")
        _check_replaceable(info)
        chunks = []
        remaining = len(expected) + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        if b"".join(chunks) != expected:
            raise WriteRefused("the file changed while asgifix ran (run fix again)")
        return info
    finally:
        os.close(fd)


def _check_replaceable(info: os.stat_result) -> None:
    if not info.st_mode & 0o222:
        raise WriteRefused("the file is read-only (make it writable to fix it)")
    if info.st_nlink > 1:
        raise WriteRefused(f"the file has {info.st_nlink} hard links, which replacing it would split; "
                           f"so it is left alone")


def _replace_at(directory: int, name: str, data: bytes, expected: bytes) -> None:
    import secrets

    info = _current(directory, name, expected)
    temporary = f".{name}.{secrets.token_hex(4)}.asgifix-tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_BINARY", 0),
                 0o600, dir_fd=directory)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            created = os.fstat(fd)
            if (created.st_uid, created.st_gid) != (info.st_uid, info.st_gid):
                try:  # a fix run as root must not leave a user's file root:root
                    os.fchown(fd, info.st_uid, info.st_gid)
                except PermissionError:
                    raise WriteRefused("the file's owner and group cannot be kept") from None
            os.fchmod(fd, stat.S_IMODE(info.st_mode))
        finally:
            os.close(fd)
        # The last look before the replace: the same inode, size and modification time.
        now = os.stat(name, dir_fd=directory, follow_symlinks=False)
        if (now.st_ino, now.st_dev, now.st_size, now.st_mtime_ns) != (
                info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns):
            raise WriteRefused("the file changed while asgifix ran (run fix again)")
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=directory)
        except OSError:
            pass
        raise


def _write_by_path(path: Path, data: bytes, expected: bytes) -> None:  # pragma: no cover - Windows
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise WriteRefused("the file was deleted while asgifix ran; not re-created") from None
    _check_replaceable(info)
    if read_bytes(path) != expected:
        raise WriteRefused("the file changed while asgifix ran (run fix again)")
    atomic_write(path, data)
