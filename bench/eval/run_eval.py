"""`make eval`: multi-turn conversations against the real API, graded on the database end state.

    .venv/bin/python bench/eval/run_eval.py [--kind K] [--case ID] [--brain offline|llm] [-v]
                                            [--skip-accuracy] [--gate]

The fixture (bench/eval/fixture.py) is loaded once with `init_db.py --seed-file` into a
template SQLite file; every case runs on its own copy, over HTTP in-process (FastAPI's
TestClient with the API key), carrying the conversation id from turn to turn as an
integrator would. See bench/eval/README.md for the case format and what is graded.

Prints a table and writes bench/results/eval.md. Exit status 0, unless --gate is given and a
target is missed (pass rate, wrong money movements, intent accuracy).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# An evaluation never reaches a model server or search API, and never reads a developer's .env.
for _name in ("OPENAI_API_KEY", "TAVILY_API_KEY", "OPENAI_BASE_URL", "REDIS_URL", "AGENT_MODE"):
    os.environ.pop(_name, None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import yaml  # noqa: E402

from bench.eval import grading  # noqa: E402
from bench.eval.fixture import write_fixture  # noqa: E402

CASES_DIR = Path(__file__).resolve().parent / "cases"
RESULTS = ROOT / "bench" / "results" / "eval.md"
API_KEY = "eval-key"
TARGETS = {"pass_rate": 0.97, "wrong_money": 0, "heldout": 0.99, "handwritten": 0.97}

CASE_KEYS = {"id", "kind", "mode", "brain", "user", "note", "turns", "end", "settings"}
TURN_KEYS = {"say", "confirm", "confirm_as", "expect", "script", "new_conversation",
             "idempotency_key"}
END_KEYS = {"refunded", "cancelled", "replaced", "cases"}


class CaseError(ValueError):
    """A case file that does not follow the format (bench/eval/README.md)."""


# --- cases -------------------------------------------------------------------------------


def load_cases(kind: str | None = None, case_id: str | None = None,
               brain: str | None = None) -> list[dict]:
    cases, seen = [], set()
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise CaseError(f"{path.name}: must be a list of cases")
        for n, case in enumerate(data):
            where = f"{path.name}[{n}] {case.get('id', '?') if isinstance(case, dict) else ''}"
            validate(case, where)
            case.setdefault("kind", path.stem)
            case.setdefault("mode", "always")
            case.setdefault("brain", "offline")
            if case["id"] in seen:
                raise CaseError(f"{where}: duplicate id {case['id']}")
            seen.add(case["id"])
            picked = (case_id is None or case["id"] == case_id
                      or (case_id.endswith("*") and case["id"].startswith(case_id[:-1])))
            if ((kind is None or case["kind"] == kind) and picked
                    and (brain is None or case["brain"] == brain)):
                cases.append(case)
    return cases


def validate(case, where: str) -> None:
    if not isinstance(case, dict):
        raise CaseError(f"{where}: a case must be a mapping")
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise CaseError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "user", "turns"):
        if key not in case:
            raise CaseError(f"{where}: missing {key}")
    if case.get("mode", "always") not in ("always", "when_unsure"):
        raise CaseError(f"{where}: mode must be always or when_unsure")
    if case.get("brain", "offline") not in ("offline", "llm"):
        raise CaseError(f"{where}: brain must be offline or llm")
    ends = case.get("end") or {}
    for end in ends if isinstance(ends, list) else [ends]:
        unknown = set(end) - END_KEYS if isinstance(end, dict) else {"(not a mapping)"}
        if unknown:
            raise CaseError(f"{where}: unknown end keys {sorted(unknown)}")
    for t, turn in enumerate(case["turns"]):
        if not isinstance(turn, dict):
            raise CaseError(f"{where}: turn {t + 1} must be a mapping")
        unknown = set(turn) - TURN_KEYS
        if unknown:
            raise CaseError(f"{where}: turn {t + 1}: unknown keys {sorted(unknown)} "
                            "(clock travel, wait_minutes, is not supported)")
        if ("say" in turn) == bool(turn.get("confirm")):
            raise CaseError(f"{where}: turn {t + 1} needs exactly one of say / confirm")
        unknown = set(turn.get("expect") or {}) - grading.EXPECT_KEYS
        if unknown:
            raise CaseError(f"{where}: turn {t + 1}: unknown expect keys {sorted(unknown)}")


# --- the shop ----------------------------------------------------------------------------


def build_template(workdir: Path) -> tuple[Path, dict]:
    """The fixture file loaded by init_db.py into a template SQLite database, once per run."""
    fixture_path = workdir / "fixture.json"
    fixture = write_fixture(fixture_path, datetime.now(UTC))
    template = workdir / "template.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{template}"}
    done = subprocess.run([sys.executable, "init_db.py", "--seed-file", str(fixture_path),
                           "--reset", "--skip-models"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"init_db.py could not load the evaluation fixture:\n{done.stderr}")
    apply_replacements(template, fixture.get("replacements", []))
    with contextlib.closing(sqlite3.connect(template)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return template, fixture


def apply_replacements(database: Path, replacements: list[dict]) -> None:
    """The replacements the SPEC fixture format cannot express (see fixture.py)."""
    from db.engine import make_engine, make_session_factory, transaction
    from db.fixture_schema import utc_naive
    from db.models import Order, Replacement

    engine = make_engine(f"sqlite:///{database}")
    try:
        with transaction(make_session_factory(engine)) as s:
            for r in replacements:
                s.get(Order, r["new_order_id"]).replacement_for = r["original_order_id"]
                s.add(Replacement(original_order_id=r["original_order_id"],
                                  new_order_id=r["new_order_id"], user_id=r["user_id"],
                                  reason=r["reason"], created_at=utc_naive(r["created_at"])))
    finally:
        engine.dispose()


def case_settings(workdir: Path, index_dir: Path, case: dict | None = None):
    from config import ROOT as APP_ROOT
    from config import Settings

    case = case or {}
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{workdir / 'shop.db'}",
        audit_log_path=workdir / "audit.jsonl",
        support_api_key=API_KEY,
        secret_key="eval-secret",
        agent_mode="llm" if case.get("brain") == "llm" else "offline",
        index_dir=index_dir,
        model_dir=APP_ROOT / "data" / "models",
        confirm_actions=case.get("mode", "always"),
        **(case.get("settings") or {}),
    )


# --- running a case ----------------------------------------------------------------------


@dataclass
class CaseResult:
    case: dict
    failures: list[str] = field(default_factory=list)
    wrong_money: list[str] = field(default_factory=list)
    seconds: float = 0.0
    transcript: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def scripted_model(items: list | None):
    from tests.agents.fakes import ScriptedChatModel, calls

    out = []
    for item in items or []:
        if "call" in item:
            out.append(calls((item["call"], item.get("args") or {})))
        elif "calls" in item:
            out.append(calls(*((c["call"], c.get("args") or {}) for c in item["calls"])))
        elif "text" in item:
            out.append(item["text"])
        elif "raise" in item:
            out.append(RuntimeError(item["raise"]))
        else:
            raise CaseError(f"script item {item!r}: use call, calls, text or raise")
    return ScriptedChatModel(messages=iter(out))


def run_case(case: dict, base, template: Path, fixture: dict, root: Path) -> CaseResult:
    from fastapi.testclient import TestClient

    from agents.factory import services_for
    from api.main import create_app

    result = CaseResult(case)
    started = time.perf_counter()
    workdir = root / "cases" / case["id"]
    workdir.mkdir(parents=True)
    shutil.copy(template, workdir / "shop.db")
    settings = case_settings(workdir, root / "index", case)
    services = services_for(settings, base)
    try:
        client = TestClient(create_app(settings, services), raise_server_exceptions=False)
        headers = {"X-API-Key": API_KEY}
        user = case["user"]
        start = grading.snapshot(services.session_factory)
        previous = start
        conversation_id = proposal_id = None
        retries: dict = {}
        for n, turn in enumerate(case["turns"], 1):
            if case["brain"] == "llm":
                from agents.llm_brain import LLMBrain

                services.agent.llm_brain = LLMBrain(scripted_model(turn.get("script")), settings,
                                                    index=base.index)
            if turn.get("new_conversation"):
                conversation_id = None
            extra = {"Idempotency-Key": turn["idempotency_key"]} if turn.get(
                "idempotency_key") else {}
            if "say" in turn:
                sent = {"user_input": turn["say"], "user_id": user,
                        "conversation_id": conversation_id}
                # A repeated Idempotency-Key is an integrator's retry: the very same request.
                sent = retries.setdefault(turn.get("idempotency_key") or object(), sent)
                response = client.post("/support/resolve", json=sent,
                                       headers={**headers, **extra})
            else:
                sent = {"user_id": turn.get("confirm_as", user),
                        "proposal_id": proposal_id or "p_never_offered"}
                response = client.post("/support/confirm", json=sent, headers=headers)
            try:
                body = response.json()
            except ValueError:
                body = {"raw": response.text[:300]}
            now = grading.snapshot(services.session_factory)
            changed = grading.diff(previous, now)
            previous = now
            if response.status_code == 200 and isinstance(body, dict):
                conversation_id = body.get("conversation_id") or conversation_id
                if body.get("proposal"):
                    proposal_id = body["proposal"].get("id")
            expect = dict(turn.get("expect") or {})
            for key in ("reply_has", "reply_lacks"):
                if key in expect:
                    expect[key] = [[grading.expand(p, fixture) for p in grading._options(item)]
                                   if isinstance(item, list) else grading.expand(item, fixture)
                                   for item in expect[key]]
            problems = grading.check_expect(expect, response.status_code, body)
            if "confirm" in turn and proposal_id is None and "http" not in expect:
                problems.insert(0, "no proposal had been offered to confirm")
            if response.status_code == 200 and isinstance(body, dict):
                open_case = any(c["user_id"] == user and c["status"] == "open"
                                for c in now.cases.values())
                # A replayed answer (same Idempotency-Key, or a proposal confirmed again) repeats
                # the first result: its claims are checked against the whole case so far.
                replayed = ("confirm" in turn
                            or response.headers.get("Idempotent-Replayed") == "true")
                basis = grading.diff(start, now) if replayed else changed
                problems += grading.reply_problems(body.get("response") or "", basis, open_case)
            result.failures += [f"turn {n}: {p}" for p in problems]
            result.transcript.append({"turn": n, "sent": turn.get("say") or "(confirm)",
                                      "http": response.status_code, "body": body})
        changes = grading.diff(start, previous)
        end = grading.grade_ends(case.get("end"), changes, start, user)
        result.failures += ["end: " + f for f in end.failures]
        result.wrong_money = end.wrong_money
        records = [json.loads(line) for line in
                   settings.audit_log_path.read_text(encoding="utf-8").splitlines()
                   if line.strip()] if settings.audit_log_path.exists() else []
        result.failures += ["audit: " + p for p in grading.grade_audit(changes, records)]
    except Exception as exc:  # a harness or agent crash fails this case, not the run
        result.failures.append(f"crashed: {type(exc).__name__}: {exc}")
    finally:
        services.close()
    result.seconds = time.perf_counter() - started
    return result


# --- intent accuracy ---------------------------------------------------------------------


def intent_accuracy(nlu) -> tuple[dict[str, float], str]:
    """Held-out split and the hand-written set, with bench/accuracy.py's own report."""
    from agents.intent_model import load_examples, read_jsonl, split_examples
    from bench.accuracy import DATA, intent_report

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _, held = split_examples(load_examples())
        # The target is on the Bitext part of the held-out split (issue 9: "the held-out
        # Bitext split"); the whole split, with our harder hand-written rows, is reported too.
        intent_report(nlu, held, "Held-out split (Bitext + own examples, 15%)")
        heldout = intent_report(nlu, [r for r in held if not r.get("own")],
                                "Held-out split, Bitext part")
        hand = intent_report(nlu, read_jsonl(DATA / "intent_eval.jsonl"),
                             "Hand-written eval set (tests/data/intent_eval.jsonl)")
    return {"heldout": heldout, "handwritten": hand}, out.getvalue().strip()


# --- the report --------------------------------------------------------------------------


def summarise(results: list[CaseResult]) -> dict:
    by_kind, by_brain, by_mode = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in results:
        by_kind[r.case["kind"]].append(r)
        by_brain[r.case["brain"]].append(r)
        by_mode[r.case["mode"]].append(r)
    passed = sum(r.passed for r in results)
    return {"total": len(results), "passed": passed,
            "rate": passed / len(results) if results else 0.0,
            "wrong_money": sum(len(r.wrong_money) for r in results),
            "by_kind": dict(sorted(by_kind.items())), "by_brain": dict(sorted(by_brain.items())),
            "by_mode": dict(sorted(by_mode.items()))}


def _rate(rs: list[CaseResult]) -> str:
    ok = sum(r.passed for r in rs)
    return f"{ok}/{len(rs)} ({ok / len(rs):.0%})" if rs else "0/0"


def render(summary: dict, results: list[CaseResult], accuracy: dict | None, accuracy_text: str,
           seconds: float, notes: list[str]) -> str:
    lines = [f"# Conversation evaluation ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", "",
             f"- cases: {summary['total']}, passed {_rate(results)}, run time {seconds:.0f} s",
             f"- wrong money movements: {summary['wrong_money']} (target 0)"]
    if accuracy:
        lines.append(f"- intent accuracy: Bitext held-out {accuracy['heldout']:.1%} (target 99%), "
                     f"hand-written {accuracy['handwritten']:.1%} (target 97%)")
    lines += [f"- note: {n}" for n in notes]
    lines += ["", "| kind | passed | wrong money |", "|---|---|---|"]
    for kind, rs in summary["by_kind"].items():
        lines.append(f"| {kind} | {_rate(rs)} | {sum(len(r.wrong_money) for r in rs)} |")
    lines += ["", "| brain | passed |", "|---|---|"]
    lines += [f"| {b} | {_rate(rs)} |" for b, rs in summary["by_brain"].items()]
    lines += ["", "| CONFIRM_ACTIONS | passed |", "|---|---|"]
    lines += [f"| {m} | {_rate(rs)} |" for m, rs in summary["by_mode"].items()]
    money = [(r.case["id"], w) for r in results for w in r.wrong_money]
    if money:
        lines += ["", "## Wrong money movements", ""]
        lines += [f"- `{cid}`: {w}" for cid, w in money]
    failed = [r for r in results if not r.passed]
    if failed:
        lines += ["", "## Failures (first failed check)", ""]
        for kind, rs in summary["by_kind"].items():
            bad = [r for r in rs if not r.passed]
            if bad:
                lines += [f"### {kind}", ""]
                lines += [f"- `{r.case['id']}`: {r.failures[0]}" for r in bad]
                lines.append("")
    if accuracy_text:
        lines += ["", "## Intent accuracy", "", "```", accuracy_text, "```"]
    return "\n".join(lines).rstrip() + "\n"


def print_table(summary: dict, results: list[CaseResult], verbose: bool) -> None:
    print(f"\n{'kind':<26}{'passed':>16}{'wrong money':>14}")
    for kind, rs in summary["by_kind"].items():
        print(f"{kind:<26}{_rate(rs):>16}{sum(len(r.wrong_money) for r in rs):>14}")
    print(f"{'ALL':<26}{_rate(results):>16}{summary['wrong_money']:>14}")
    for brain, rs in summary["by_brain"].items():
        print(f"  brain {brain:<18}{_rate(rs):>16}")
    for mode, rs in summary["by_mode"].items():
        print(f"  mode {mode:<19}{_rate(rs):>16}")
    failed = [r for r in results if not r.passed]
    if failed:
        print("\nFailures:")
        for r in failed:
            print(f"  {r.case['id']}: {r.failures[0]}")
            if verbose:
                for extra in r.failures[1:]:
                    print(f"      {extra}")
                for t in r.transcript:
                    body = t["body"] if isinstance(t["body"], dict) else {}
                    print(f"      > {t['sent']}")
                    print(f"      < [{t['http']}] {body.get('intent')}/{body.get('action')}/"
                          f"{(body.get('action_result') or {}).get('status')} "
                          f"order={body.get('order_id')} proposal={bool(body.get('proposal'))}: "
                          f"{(body.get('response') or body.get('error') or '')!s:.300}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", help="only the cases of this kind")
    parser.add_argument("--case", help="only the case with this id, or ids starting with it when it ends in *")
    parser.add_argument("--brain", choices=("offline", "llm"), help="only cases for this brain")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="every failed check and the transcript of each failed case")
    parser.add_argument("--skip-accuracy", action="store_true",
                        help="do not measure intent accuracy (default when a subset is chosen)")
    parser.add_argument("--gate", action="store_true",
                        help="exit 1 when a target is missed (pass rate 97%%, no wrong money "
                             "movement, held-out 99%%, hand-written 97%%)")
    args = parser.parse_args(argv)

    from agents.factory import build_services
    from config import Settings

    # The agent's own warnings (a dropped model reply, a fallback) belong to -v.
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.ERROR)

    cases = load_cases(args.kind, args.case, args.brain)
    if not cases:
        print("No cases match.", file=sys.stderr)
        return 2 if args.gate else 0
    notes = []
    if "confirm_actions" not in Settings.model_fields:
        notes.append("config.Settings has no confirm_actions yet: a case's mode has no effect")
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="supportops-eval-"))
    try:
        template, fixture = build_template(root)
        (root / "base").mkdir()
        base = build_services(case_settings(root / "base", root / "index"))
        print(f"Fixture loaded ({len(fixture['users'])} users, {len(fixture['orders'])} orders); "
              f"running {len(cases)} cases.", flush=True)
        results = []
        for case in cases:
            result = run_case(case, base, template, fixture, root)
            results.append(result)
            if args.verbose:
                print(f"  {'PASS' if result.passed else 'FAIL'} {case['id']} "
                      f"({result.seconds:.1f} s)", flush=True)
        accuracy, accuracy_text = None, ""
        subset = args.kind or args.case or args.brain
        if not args.skip_accuracy and (not subset or args.gate):
            accuracy, accuracy_text = intent_accuracy(base.nlu)
        base.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    seconds = time.perf_counter() - started
    summary = summarise(results)
    print_table(summary, results, args.verbose)
    if accuracy:
        print(f"\nIntent accuracy: Bitext held-out {accuracy['heldout']:.1%}, "
              f"hand-written {accuracy['handwritten']:.1%}")
    for note in notes:
        print(f"Note: {note}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(render(summary, results, accuracy, accuracy_text, seconds, notes),
                       encoding="utf-8")
    print(f"\n{summary['passed']}/{summary['total']} passed in {seconds:.0f} s; "
          f"report: {RESULTS.relative_to(ROOT)}")
    if args.gate:
        missed = missed_targets(summary, accuracy)
        for m in missed:
            print(f"GATE: {m}", file=sys.stderr)
        return 1 if missed else 0
    return 0


def missed_targets(summary: dict, accuracy: dict | None) -> list[str]:
    missed = []
    if summary["rate"] < TARGETS["pass_rate"]:
        missed.append(f"pass rate {summary['rate']:.1%} < {TARGETS['pass_rate']:.0%}")
    if summary["wrong_money"] > TARGETS["wrong_money"]:
        missed.append(f"{summary['wrong_money']} wrong money movement(s)")
    if accuracy is None:
        missed.append("intent accuracy was not measured")
    else:
        for key in ("heldout", "handwritten"):
            if accuracy[key] < TARGETS[key]:
                missed.append(f"{key} intent accuracy {accuracy[key]:.1%} < {TARGETS[key]:.0%}")
    return missed


if __name__ == "__main__":
    sys.exit(main())
