"""``overseer bench --api`` runs end to end at a tiny size (a real uvicorn server) and prints its table."""

from app.cli import main


def test_api_bench_prints_one_table(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code = main(["bench", "--api", "--api-rows", "600", "--clients", "2", "--singles", "3", "--workdir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| step | outcomes | time | outcomes/s | latency p50 | latency p99")
    assert any(line.startswith("| `ingest_file` (CSV)") for line in table)
    assert any(line.startswith("| API, batches of 1,000") and "× the file import" in line for line in table)
    singles = [line for line in table if line.startswith("| API, single outcomes, 2 clients")]
    assert len(singles) == 1 and singles[0].split("|")[2].strip() == "6"
    assert "failed" not in out


def test_api_bench_refuses_bad_sizes(capsys):
    assert main(["bench", "--api", "--clients", "0"]) == 2
    assert "--clients must be from 1" in capsys.readouterr().err
