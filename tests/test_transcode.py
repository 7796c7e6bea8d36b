"""The UTF-8 copy of a log in another encoding: decoded in pieces by child interpreters, it
is the copy decoded in one pass, byte for byte, with the same head, notes and refusals."""

from __future__ import annotations

import codecs
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svcmetrics import pieces, utf8copy
from svcmetrics.readers import encodings
from svcmetrics.readers.encodings import Transcoded, transcode
from svcmetrics.utf8copy import LINE_CODECS, has_private_use

SIMPLIFIED_HEADER = "日期,社区,类型,对象,编号,户号,状态,单号,服务项目\n"
TRADITIONAL_HEADER = "日期,社區,類型,對象,編號,戶號,狀態,單號,服務項目\n"


def _rows(count: int, codec: str) -> str:
    """Rows that begin and end with a multi-byte character, so that every cut (just after a
    line break) falls between two of them; in GB18030 some take four bytes."""
    if codec == "gb18030":
        event, names = "参与", ["张三", "€李四𠀀", "𠀀王五", "赵六·"]
    else:
        event, names = "參與", ["張三", "李四", "王五", "趙六"]
    return "".join(
        f"{names[n % 4][-1]}2026-10-03,c1,{event},居民,r{n},,,,{names[n % 4]}\n"
        for n in range(count)
    )


class Spawned:
    """Counts the child interpreters started, and can make them fail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, command: list[str] | None = None):
        self.count = 0
        self.command = command
        self._start = pieces.child
        monkeypatch.setattr(pieces, "child", self)

    def __call__(self, *args: Any) -> subprocess.Popen[bytes]:
        self.count += 1
        if self.command is None:
            return self._start(*args)
        return subprocess.Popen(self.command, stdout=subprocess.PIPE)


def _both(
    path: Path, encoding: str | None, monkeypatch: pytest.MonkeyPatch, piece_bytes: int = 1024
) -> tuple[Any, Any]:
    """What :func:`transcode` gives in one pass and in pieces (up to four), each as (bytes,
    head, codec, notes) or None, with the folder left empty but for the copy."""
    results = []
    for cut in (False, True):
        with monkeypatch.context() as patch:
            patch.setattr(pieces, "PIECE_BYTES", piece_bytes if cut else 1 << 60)
            patch.setattr(pieces, "cores", lambda: 4)
            with tempfile.TemporaryDirectory() as folder:
                copy = transcode(path, encoding, Path(folder), "log.csv")
                results.append(_seen(copy, Path(folder)))
    return results[0], results[1]


def _seen(copy: Transcoded | None, folder: Path) -> Any:
    left = sorted(folder.iterdir())
    if copy is None:
        assert left == []
        return None
    assert left == [copy.path]
    return copy.path.read_bytes(), copy.head, copy.codec, copy.notes


@pytest.mark.parametrize("codec", ["gb18030", "cp950"])
def test_pieces_join_into_the_copy_of_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codec: str
) -> None:
    header = SIMPLIFIED_HEADER if codec == "gb18030" else TRADITIONAL_HEADER
    text = header + _rows(6_000, codec)
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode(codec))
    before = path.read_bytes()
    spawned = Spawned(monkeypatch)
    whole, parts = _both(path, None, monkeypatch)
    assert spawned.count == 3  # four pieces, the first decoded by this process
    assert parts == whole
    assert whole[0] == text.encode("utf-8")
    assert (whole[2], whole[3]) == (codec, [])
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("flaw", "codec"),
    [
        (b"\x80\x80", "gb18030"),  # a byte GB18030 refuses
        (b"\xa4", "cp950"),  # a lead byte before the line break
        (b"\x00", "gb18030"),
        (b"\x00", "cp950"),
    ],
)
def test_a_flaw_in_the_last_piece_refuses_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flaw: bytes, codec: str
) -> None:
    header = SIMPLIFIED_HEADER if codec == "gb18030" else TRADITIONAL_HEADER
    path = tmp_path / "log.csv"
    path.write_bytes((header + _rows(6_000, codec)).encode(codec) + flaw + b"\n")
    spawned = Spawned(monkeypatch)
    for encoding in (None, codec):
        assert _both(path, encoding, monkeypatch) == (None, None)
    assert spawned.count == 6


def test_private_use_in_the_last_piece_is_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = SIMPLIFIED_HEADER + _rows(6_000, "gb18030") + "2026-10-03,c1,参与,居民,r1,,,,\ue4c5\n"
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode("gb18030"))
    whole, parts = _both(path, None, monkeypatch)
    assert parts == whole
    assert [note.kind for note in whole[3]] == ["encoding_private_use"]
    # searched only when the file's start chose the encoding (spec 1.4)
    whole, parts = _both(path, "gb18030", monkeypatch)
    assert parts == whole and whole[3] == []


@pytest.mark.parametrize("failure", ["crash", "cannot start"])
def test_a_child_that_fails_leaves_the_work_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    text = SIMPLIFIED_HEADER + _rows(6_000, "gb18030") + "\ue4c5\n"
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode("gb18030"))
    command = [sys.executable, "-c", "raise SystemExit(1)"]
    failed = Spawned(monkeypatch, command if failure == "crash" else [str(tmp_path / "none")])
    whole, parts = _both(path, None, monkeypatch)
    assert failed.count == (3 if failure == "crash" else 1)
    assert parts == whole
    assert whole[0] == text.encode("utf-8")
    assert [note.kind for note in whole[3]] == ["encoding_private_use"]


def test_pieces_are_joined_without_sendfile_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> int:
        raise OSError("not between these files")

    text = SIMPLIFIED_HEADER + _rows(6_000, "gb18030")
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode("gb18030"))
    monkeypatch.setattr(pieces.os, "sendfile", refuse)
    whole, parts = _both(path, None, monkeypatch)
    assert parts == whole and whole[0] == text.encode("utf-8")


def test_no_child_is_started_for_a_small_file_or_a_codec_without_line_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned = Spawned(monkeypatch)
    monkeypatch.setattr(pieces, "cores", lambda: 4)
    text = SIMPLIFIED_HEADER + _rows(6_000, "gb18030")
    path = tmp_path / "log.csv"
    for codec, piece_bytes in (("gb18030", pieces.PIECE_BYTES), ("utf-16", 1024)):
        monkeypatch.setattr(pieces, "PIECE_BYTES", piece_bytes)
        path.write_bytes(text.encode(codec))
        copy = transcode(path, None, tmp_path, "log.csv")
        assert copy is not None and copy.path.read_bytes() == text.encode("utf-8")
        assert copy.codec == codec
    assert spawned.count == 0


def test_a_codec_that_is_no_text_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"date,community\n")
    assert transcode(path, "rot13", tmp_path, "log.csv") is None
    assert list(tmp_path.iterdir()) == [path]


def test_zero_and_line_break_bytes_only_stand_for_themselves() -> None:
    """In the LINE_CODECS, no byte of a character after its first is 0x00 or 0x0A: every
    sequence the decoder holds (a lead byte; in GB18030 up to three bytes of a four-byte
    form) is refused when one of them follows."""
    for codec in LINE_CODECS:
        pending = [bytes([lead]) for lead in range(0x80, 0x100)]
        held = 0
        while pending:
            sequence = pending.pop()
            try:
                decoded = codecs.getincrementaldecoder(codec)().decode(sequence, final=False)
            except UnicodeDecodeError:
                continue
            if decoded:
                continue  # (a character of its own, or an error the decoder let through)
            held += 1
            for line_byte in (b"\x00", b"\n"):
                with pytest.raises(UnicodeDecodeError):
                    (sequence + line_byte).decode(codec)
            if len(sequence) < 3:
                pending.extend(sequence + bytes([byte]) for byte in range(0x30, 0x100))
        assert held > 100, codec


_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
_EDGES = [
    0x7F, 0xDFFF - 0x800, 0xD7FF, 0xE000, 0xE001, 0xEFFF, 0xF000, 0xF8FF, 0xF900, 0xFEFF,
    0xFF0C, 0xFFFD, 0x10000, 0xEFFFF, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFF,
]  # fmt: skip


def test_private_use_is_found_on_the_utf8_bytes_as_on_the_text() -> None:
    points = [*_EDGES, *range(0xE000 - 300, 0xFFFF), *range(0x10000, 0x110000, 97)]
    for point in points:
        char = chr(point)
        if "\ud800" <= char <= "\udfff":
            continue
        for text in (char, f"，{char}，", f"a{char}", "\uff0c" * 3 + char):
            assert has_private_use(text.encode("utf-8")) == bool(_PRIVATE_USE.search(text)), hex(
                point
            )


_GB18030_CHARS = st.sampled_from(
    list("ab,1 社区参与居民张三€·（），“”") + ["𠀀", "\ue4c5", "\u00e9", "\uff0c", "\x7f"]
)
_BIG5_CHARS = st.sampled_from(list("ab,1 社區參與居民張三（），、「」") + ["\u00b7"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    codec=st.sampled_from(["gb18030", "cp950"]),
    flaw=st.sampled_from([b"", b"\x00", b"\xff"]),
)
def test_pieces_and_one_pass_agree_on_any_text(
    data: st.DataObject, codec: str, flaw: bytes
) -> None:
    """Random lines, cut into up to four pieces: the same copy, head and notes, or None from
    both; the copy is the text in UTF-8."""
    chars = _GB18030_CHARS if codec == "gb18030" else _BIG5_CHARS
    lines = data.draw(st.lists(st.text(chars, max_size=30), min_size=1, max_size=300))
    header = SIMPLIFIED_HEADER if codec == "gb18030" else TRADITIONAL_HEADER
    text = header + "\n".join(lines) + data.draw(st.sampled_from(["", "\n"]))
    encoded = text.encode(codec)
    where = data.draw(st.integers(0, len(encoded)))
    if flaw and encoded[where - 1 : where] not in (b"", b"\n"):
        where = encoded.rfind(b"\n", 0, where) + 1  # (between two characters)
    encoded = encoded[:where] + flaw + encoded[where:]
    encoding = data.draw(st.sampled_from([None, codec]))
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(encodings, "HEAD_BYTES", 64)  # (cuts may then fall anywhere)
        path = Path(folder) / "log.csv"
        path.write_bytes(encoded)
        whole, parts = _both(path, encoding, patch, piece_bytes=128)
    assert parts == whole
    if flaw:
        assert whole is None
    else:
        assert whole[0] == text.encode("utf-8") and whole[2] == codec


def test_the_worker_runs_alone_on_the_standard_library(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("名称\n张三\n".encode("gb18030"))
    target = tmp_path / "out.csv"
    command = [sys.executable, "-I", "-S", utf8copy.__file__, str(source), "5", "10"]
    said = subprocess.run([*command, "gb18030", str(target), "1"], capture_output=True, check=False)
    assert (said.returncode, said.stdout, said.stderr) == (0, b"ok\n", b"")
    assert target.read_bytes() == "张三\n".encode()
    said = subprocess.run([*command, "utf-8", str(target), "0"], capture_output=True, check=False)
    assert said.returncode == utf8copy.UNREADABLE
    # a piece it cannot write is no fault of the file: the parent then copies it alone
    nowhere = tmp_path / "missing" / "out.csv"
    said = subprocess.run([*command, "gb18030", str(nowhere), "0"], capture_output=True)
    assert said.returncode == utf8copy.FAILED
