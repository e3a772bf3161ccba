"""A case bank on a real local S3 server shared by several writer processes and servers."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from memento_memory.bank import CaseBank
from memento_memory.config import BankConfig
from memento_memory.storage import StorageError, storage_options
from memento_memory.store import CaseStore
from tests.harness import connect, payload, script
from tests.memory.test_concurrency import writer

CASES_PER_WRITER = 8


def stored_ids(uri: str) -> list[str]:
    return CaseStore(uri, "feature-hash", storage=BankConfig(db=uri).storage_options()).read_all().column("id").to_pylist()


def test_storage_options_come_from_the_aws_variables_and_the_config_table(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    options = storage_options("s3://bucket/bank", {"region": "us-east-2"})
    assert options == {
        "aws_access_key_id": "from-env", "region": "us-east-2", "endpoint": "http://127.0.0.1:9000", "allow_http": "true"
    }
    assert storage_options("/tmp/bank", {"region": "x"}) == {}  # a local bank needs none
    config = BankConfig(db="s3://bucket/bank", storage='{"aws_secret_access_key": "s3cret"}')  # JSON from env or flag
    assert config.storage_options()["aws_secret_access_key"] == "s3cret"
    assert "s3cret" not in config.model_dump_json()  # secrets stay out of --print-config and server_info


def test_concurrent_writer_processes_lose_and_duplicate_nothing_and_every_reader_converges(s3_env):
    uri = s3_env.bank()
    writers = [writer(uri, batch=0) for _ in range(3)]
    tasks = {n: [f"writer {n} case {i} about subject {i % 4}" for i in range(CASES_PER_WRITER)] for n in range(3)}

    def run(number: int) -> list[str]:
        process = writers[number]
        process.stdin.write("".join(task + "\n" for task in tasks[number]))  # all at once: the writers race
        process.stdin.close()
        acknowledged = [case_id for _ in tasks[number] for case_id in json.loads(process.stdout.readline())]
        assert process.wait(60) == 0
        return acknowledged

    with CaseBank.open(db=uri, model="feature-hash", refresh_interval_s=0.2) as reader:
        with ThreadPoolExecutor(3) as pool:
            acknowledged = dict(zip(range(3), pool.map(run, range(3))))
        every = [case_id for ids in acknowledged.values() for case_id in ids]
        ids = stored_ids(uri)
        assert len(ids) == len(set(ids)) == len(every) == 3 * CASES_PER_WRITER
        assert set(ids) == set(every)
        deadline = time.monotonic() + 2.0  # a few refresh intervals of the reader's background thread
        while len(reader.list()) < len(every):
            assert time.monotonic() < deadline, "the reader's mirror did not follow the writers' commits"
            time.sleep(0.05)
        with CaseBank.open(db=uri, model="feature-hash") as fresh:  # a new server agrees with a long-running one
            for number, case_ids in acknowledged.items():
                for task, case_id in zip(tasks[number], case_ids):
                    assert reader.retrieve(task, k=1).positive[0].id == case_id
                    assert fresh.retrieve(task, k=1).positive[0].id == case_id


def test_a_sigkilled_writer_leaves_the_bank_readable_with_every_acknowledged_batch(s3_env):
    uri = s3_env.bank()
    process = writer(uri, batch=10)
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < 3 * 10:
            acknowledged += json.loads(process.stdout.readline())
        time.sleep(0.05)  # into the next batch
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    ids = stored_ids(uri)
    assert set(acknowledged) <= set(ids)
    assert len(ids) % 10 == 0 and len(ids) == len(set(ids))  # whole batches only
    with CaseBank.open(db=uri, model="feature-hash") as bank:
        bank.write([{"task": "after the crash", "reward": 1}])
        assert bank.stats().cases == len(ids) + 1


def test_a_store_that_ignores_conditional_puts_is_refused(s3, lossy_endpoint, monkeypatch):
    for name, value in s3.env(lossy_endpoint).items():
        monkeypatch.setenv(name, value)
    uri = s3.bank()
    with pytest.raises(StorageError, match="ignores conditional writes"):
        CaseBank.open(db=uri, model="feature-hash")
    server = subprocess.run(
        [script("memory"), "--db", uri, "--model", "feature-hash"], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )
    assert server.returncode == 2
    lines = server.stderr.strip().splitlines()
    assert len(lines) == 1 and "ignores conditional writes (If-None-Match)" in lines[0], server.stderr
    assert "Traceback" not in server.stderr


def test_an_unreachable_store_is_a_one_line_error(s3, monkeypatch):
    for name, value in s3.env("http://127.0.0.1:9").items():  # nothing listens on the discard port
        monkeypatch.setenv(name, value)
    server = subprocess.run(
        [script("memory"), "--db", s3.bank(), "--model", "feature-hash"], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )
    assert server.returncode == 2 and "cannot use the case bank at s3://" in server.stderr
    assert len(server.stderr.strip().splitlines()) == 1


@pytest.mark.anyio
async def test_servers_configured_by_the_storage_table_share_one_bank(s3, tmp_path, monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)  # only the config file says where the store is
    uri = s3.bank()
    config = tmp_path / "memento.toml"
    config.write_text(
        f'[memory]\ndb = "{uri}"\nmodel = "feature-hash"\nrefresh_interval_s = 0.2\n'
        f'[memory.storage]\nendpoint = "{s3.endpoint}"\nregion = "us-east-1"\n'
        'aws_access_key_id = "testing"\naws_secret_access_key = "testing"\n'
    )
    args = ["--config", str(config)]
    async with connect("memory", args=args) as first, connect("memory", args=args) as second:
        written = payload(await first.call_tool("write_case", {"task": "shared through object storage", "reward": 1.0}))
        case_id = written["created"][0]
        deadline = time.monotonic() + 2.0
        while True:
            found = payload(await second.call_tool("retrieve_cases", {"task": "shared through object storage", "k": 1}))
            if found["positive"] and found["positive"][0]["id"] == case_id:
                break
            assert time.monotonic() < deadline, "the second server never saw the first one's case"
            time.sleep(0.1)


def test_a_stdio_server_whose_client_vanished_exits_quietly(tmp_path):
    server = subprocess.Popen(
        [script("memory"), "--db", str(tmp_path / "bank"), "--model", "feature-hash"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    server.stdin.write(json.dumps(initialize).encode() + b"\n")
    server.stdin.flush()
    assert json.loads(server.stdout.readline())["id"] == 1
    server.stdout.close()  # the client is gone: the next reply hits a closed pipe
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    server.stdin.write(json.dumps(listing).encode() + b"\n")
    server.stdin.flush()
    time.sleep(1.0)
    server.stdin.close()
    assert server.wait(30) == 0
    stderr = server.stderr.read().decode()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr



def test_the_learned_scorers_checkpoint_lives_in_the_bucket_and_servers_follow_a_peers_training(s3_env):
    from tests.memory.test_learning import SEEDS, SEEDS_ONLY, teach

    config = BankConfig(db=s3_env.bank(), model="feature-hash", refresh_interval_s=0.2)
    with CaseBank.open(config) as first:
        first.write(SEEDS)
        teach(first, rounds=1)
    with CaseBank.open(config) as follower:  # a long-running server elsewhere
        before = follower.stats().scorer
        assert before.checkpoint == f"{config.database()}/scorer.pt" and before.trained_steps > 0
        with CaseBank.open(config) as peer:
            teach(peer, rounds=2)
        deadline = time.monotonic() + 2.0
        while follower.stats().scorer.trained_steps <= before.trained_steps:
            assert time.monotonic() < deadline, "the follower never adopted the peer's newer checkpoint"
            time.sleep(0.1)
        found = follower.retrieve("What is the capital city of France?", k=1, policy="learned", filters=SEEDS_ONLY)
        assert found.ids == ["useful"]


def test_stats_count_a_peers_write_at_once(s3_env):
    uri = s3_env.bank()
    with CaseBank.open(db=uri, model="feature-hash", refresh_interval_s=60) as reader:  # its refresh never runs here
        with CaseBank.open(db=uri, model="feature-hash") as writer:
            writer.write([{"task": "written by a peer", "reward": 1.0}])
        assert reader.stats().cases == 1


def test_an_unreachable_store_never_breaks_the_scorer_it_only_stops_following(caplog):
    pytest.importorskip("botocore", reason="botocore is missing: pip install -e '.[s3]'")
    import numpy as np

    from memento_memory.checkpoint import ObjectCheckpoint
    from memento_memory.scorer import Scorer

    options = {"endpoint": "http://127.0.0.1:9", "aws_access_key_id": "x", "aws_secret_access_key": "y", "allow_http": "true"}
    checkpoint = ObjectCheckpoint("s3://gone-bucket/bank", options, interval=0)
    scorer = Scorer(8, checkpoint)
    vectors = np.ones((2, 8), dtype=np.float32)
    scorer.train_step(vectors, vectors, np.ones(2, dtype=np.float32), np.ones(2, dtype=np.float32))
    scorer.save()  # logged, not raised: training goes on
    assert scorer.score(vectors[0], vectors, np.ones(2, dtype=np.float32)).shape == (2,)
    assert "cannot save scorer checkpoint s3://gone-bucket/bank/scorer.pt" in caplog.text
    assert "cannot check scorer checkpoint" in caplog.text
