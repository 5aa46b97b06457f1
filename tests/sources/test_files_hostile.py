"""Bounded, hostile-proof reading (sources/files.py): non-regular files, size and width
limits, every problem of a file at once, future-dated rows, Yahoo's adjusted close."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import FileValidationError, InputError, ValidationError
from oilimpact.series import default_registry
from oilimpact.sources import files
from oilimpact.sources.files import detect_format, read_series_file, read_tanker_export


def _timed(fn, *args, **kwargs):
    """Run ``fn`` in a thread; fail (instead of hanging) if it takes more than 10 s."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["exc"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), f"{fn.__name__} blocked on {args}"
    return out.get("exc")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_without_writer_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    exc = _timed(read_series_file, fifo, name="brent")
    assert isinstance(exc, InputError)
    assert (
        str(exc) == f"cannot read {fifo}: it is a named pipe (FIFO), not a regular file; "
        "import a CSV file saved on disk"
    )


@pytest.mark.parametrize(
    ("path", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")]
)
def test_devices_are_refused_by_name(path: str, kind: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"{path} absent")
    exc = _timed(read_series_file, path, name="brent")
    assert isinstance(exc, InputError) and f"cannot read {path}: it is {kind}" in str(exc)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=rf"cannot read {tmp_path}: it is a directory"):
        detect_format(tmp_path)


def test_size_limit_is_checked_before_reading_and_can_be_raised(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("Date,Price\n" + "2024-01-02,1\n" * 1000)
    size = path.stat().st_size
    with pytest.raises(InputError, match=rf"{path} is {size:,} bytes, over the size limit of "
                       r"1,000 bytes; .*--max-size"):  # fmt: skip
        read_series_file(path, name="x", max_bytes=1000)
    with pytest.raises(InputError, match="over the size limit"):  # streams too
        read_series_file(io.StringIO(path.read_text()), name="x", max_bytes=1000)
    with pytest.raises(InputError, match="duplicate date"):  # raised: it is read and parsed
        read_series_file(path, name="x", max_bytes=size)
    assert files.DEFAULT_MAX_BYTES == 100 * 2**20


def test_very_wide_file_is_refused_fast_showing_a_few_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(300_000)) + "\n")
    with pytest.raises(InputError) as info:
        read_series_file(path, name="x")
    msg = str(info.value)
    assert msg.startswith(f"{path}, line 1: the header has 300,000 columns")
    assert "'c0', 'c1', 'c2', 'c3', 'c4', ... (300,000 columns in all)" in msg
    assert "c5'" not in msg and len(msg) < 500


def test_wide_but_allowed_file_lists_a_few_columns_only(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(3000)) + "\n" + ",".join("1" * 3000) + "\n")
    with pytest.raises(InputError) as info:
        read_series_file(path, name="x")
    msg = str(info.value)
    assert "unrecognised header" in msg and "(3,000 columns in all)" in msg and len(msg) < 1500


def test_all_problems_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "brent.csv"
    path.write_text(
        "Date,Price\n2024-01-02,75.1\n2024-01-03,-5\n2024-01-04,abc\n2024-13-05,76\n"
        "2024-01-08,77\n2024-01-09,9999\n"
    )
    spec = default_registry()["brent"]
    with pytest.raises(FileValidationError) as info:
        read_series_file(path, name="brent", spec=spec)
    exc = info.value
    assert isinstance(exc, InputError) and isinstance(exc, ValidationError)
    table = exc.failures
    assert table["line"].tolist() == [3, 4, 5, 7]
    assert set(table["file"]) == {str(path)}
    assert table["column"].tolist() == ["Price", "Price", "Date", "Price"]
    assert str(exc).startswith(f"{path}, line 3: value -5 in column 'Price' fails")
    assert "4 problems in all" in str(exc) and "line 4: non-numeric value 'abc'" in str(exc)
    assert "line 5: invalid date '2024-13-05'" in str(exc) and "line 7: value 9999" in str(exc)
    # without a spec only the parse problems are reported
    with pytest.raises(FileValidationError) as info:
        read_series_file(path, name="brent")
    assert info.value.failures["line"].tolist() == [4, 5]


def test_future_dated_rows_are_refused_and_listed_unless_allowed(tmp_path: Path) -> None:
    path = tmp_path / "brent.csv"
    path.write_text("Date,Price\n2026-06-01,70\n2027-06-04,71\n2027-06-05,72\n")
    with pytest.raises(FileValidationError) as info:
        read_series_file(path, name="brent", today="2026-06-02")
    assert info.value.failures["value"].tolist() == ["2027-06-04", "2027-06-05"]
    assert "after today (2026-06-02 UTC)" in str(info.value) and "--allow-future" in str(info.value)
    got = read_series_file(path, name="brent", today="2026-06-02", allow_future=True)
    assert got.series.tolist() == [70.0, 71.0, 72.0]
    # the default "today" is today in UTC
    tomorrow = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize() + pd.Timedelta(days=1)
    path.write_text(f"Date,Price\n{tomorrow:%Y-%m-%d},70\n")
    with pytest.raises(FileValidationError, match="after today"):
        read_series_file(path, name="brent")


def test_future_cargoes_are_refused_in_tanker_exports() -> None:
    csv = io.StringIO(
        "Date (origin),Origin,Destination,Volume (origin m3)\n"
        "2025-11-03,Venezuela,China,100000\n2026-02-20,Venezuela,China,55000\n"
    )
    with pytest.raises(FileValidationError, match="line 3: date 2026-02-20 is after today"):
        read_tanker_export(csv, name="ve", today="2026-01-15")


def test_yahoo_takes_adjusted_close_like_fetch(tmp_path: Path) -> None:
    path = tmp_path / "xle.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2025-12-15,90,91,89,90.5,88.1,1000\n2025-12-16,90.5,92,90,91.0,88.6,1200\n"
    )
    got = read_series_file(path, name="xle")
    assert got.series.tolist() == [88.1, 88.6] and got.value_column == "Adj Close"
    assert got.notes == ()
    assert read_series_file(path, name="xle", column="Close").series.tolist() == [90.5, 91.0]
    multi = tmp_path / "multi.csv"
    multi.write_text(
        "Price,Adj Close,Close,Volume\nTicker,XLE,XLE,XLE\nDate,,,\n"
        "2025-12-15,88.1,90.5,1000\n2025-12-16,88.6,91.0,1200\n"
    )
    assert read_series_file(multi, name="xle").series.tolist() == [88.1, 88.6]
    no_adj = tmp_path / "auto.csv"
    no_adj.write_text("Date,Open,High,Low,Close,Volume\n2025-12-15,90,91,89,90.5,1000\n")
    got = read_series_file(no_adj, name="xle")
    assert got.series.tolist() == [90.5] and "auto_adjust=True" in got.notes[0]


def test_file_hash_is_returned(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "b.csv"
    path.write_bytes(b"Date,Price\n2024-01-02,1\n")
    got = read_series_file(path, name="b")
    assert got.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_unexpected_errors_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "b.csv"
    path.write_text("Date,Price\n2024-01-02,1\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(files, "_values_lazy", boom)
    with pytest.raises(InputError, match=rf"^{path}: not enough memory to parse it"):
        read_series_file(path, name="b")

    def bug(*args: object, **kwargs: object) -> None:
        raise KeyError("x")

    monkeypatch.setattr(files, "_values_lazy", bug)
    with pytest.raises(InputError, match=rf"^{path}: unexpected KeyError while parsing it"):
        read_series_file(path, name="b")


def test_blank_rows_and_quoted_newlines_are_still_counted(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('Date,Price,Note\n2024-01-02,1,"a\nb"\n\n,,\n2024-01-03,zz,c\n')
    with pytest.raises(InputError, match=r"line 6: non-numeric value 'zz'"):
        read_series_file(path, name="q", column="Price", fmt="eia")
    assert np.isfinite(read_series_file(io.StringIO("Date,Price\n2024-01-02,1\n"), name="q")
                       .series).all()  # fmt: skip


def test_wide_files_take_the_row_by_row_path_with_the_same_answers(tmp_path: Path) -> None:
    """Above 64 columns blank rows and quoted newlines are found row by row."""
    header = "Date,Price," + ",".join(f"x{i}" for i in range(80))
    filler = ",".join("" for _ in range(80))
    path = tmp_path / "w.csv"
    path.write_text(
        f'{header}\n2024-01-02,1,"a\nb"{"," * 79}\n{"," * 81}\n\n2024-01-03,zz,{filler}\n'
    )
    with pytest.raises(InputError, match=r"line 6: non-numeric value 'zz'"):
        read_series_file(path, name="w", fmt="eia")
    with pytest.raises(InputError, match="line 3: expected 82 fields like the first line, saw 3"):
        read_series_file(io.StringIO(f"{header}\n2024-01-02,1,{filler}\n2024-01-03,2,3\n"),
                         name="w", fmt="eia")  # fmt: skip
