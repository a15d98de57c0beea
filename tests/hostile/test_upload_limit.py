"""The Import page's size limit: passed to the uploader, stated in its help, enforced on the server."""

from __future__ import annotations

from tests.ui.conftest import make_app, no_errors

HEADER = b"outcome_id,job,started_at,completed_at,status,verdict,handoff_step\n"
ROW = b"T-%d,customer-support,2026-11-20T10:00:00Z,2026-11-20T10:30:00Z,completed,,\n"


def _import_page(monkeypatch, limit: str | None):
    if limit is None:
        monkeypatch.delenv("OVERSEER_MAX_IMPORT_MB", raising=False)
    else:
        monkeypatch.setenv("OVERSEER_MAX_IMPORT_MB", limit)
    at = make_app()
    at.run()
    at.switch_page("ui/pages/import_data.py").run()
    no_errors(at)
    return at


def test_the_limit_is_passed_to_the_uploader_and_stated(account, monkeypatch):
    at = _import_page(monkeypatch, None)
    uploader = at.file_uploader(key="upload")
    assert uploader.proto.max_upload_size_mb == 200
    assert "200 MB" in uploader.help
    at = _import_page(monkeypatch, "5")
    assert at.file_uploader(key="upload").proto.max_upload_size_mb == 5
    assert "up to 5 MB" in at.file_uploader(key="upload").help
    for nonsense in ("0", "-3", "lots"):
        assert _import_page(monkeypatch, nonsense).file_uploader(key="upload").proto.max_upload_size_mb == 200


def test_an_upload_above_the_limit_is_refused_with_a_clear_message(account, monkeypatch):
    at = _import_page(monkeypatch, "1")
    big = HEADER + b"".join(ROW % n for n in range(20_000))
    assert len(big) > 1024 * 1024
    at.file_uploader(key="upload").upload("big.csv", big, "text/csv")
    at.run()
    assert not at.exception
    messages = [e.value for e in at.error]
    # The command line refuses the same file, so the message says what to do instead: split it.
    assert any("limited to 1 MB" in m and "split it into smaller files" in m for m in messages), messages
    # Refused before anything is read: no preview, no validation report, no import button.
    assert not at.dataframe and not [b for b in at.button if b.key == "do_import"]


def test_an_upload_within_the_limit_is_checked_as_usual(account, monkeypatch):
    at = _import_page(monkeypatch, "1")
    at.file_uploader(key="upload").upload("small.csv", HEADER + ROW % 1, "text/csv")
    at.run()
    no_errors(at)
    assert not [e for e in at.error if "limited to" in e.value]
    assert at.button(key="do_import").label == "Import 1 outcome"
