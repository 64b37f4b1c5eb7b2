"""``recommend`` (one case, or a JSON Lines batch) and ``audit`` (a department's orders)."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from axilla_kg.cli.common import (
    Wanted,
    add_command,
    add_data,
    add_engine,
    add_format,
    bounded_int,
    bulk_collection,
    graph,
)
from axilla_kg.errors import AxillaKGError, DataError, UsageError

if TYPE_CHECKING:
    from axilla_kg.contract.features import Registry
    from axilla_kg.recommend.recommender import Recommender

#: confidence levels a table marks, so a row never looks like a plain ACR answer
LOW_CONFIDENCE = frozenset({"low"})


def add_case_flags(p: argparse.ArgumentParser, registry: Registry) -> None:
    """One flag per feature of the registry (``--tumor-size-cm`` for ``tumor_size_cm``), with the
    feature's values and definition as help; values are checked by the case contract, so a bad
    one gets the same one-line error as in a JSON case."""
    group = p.add_argument_group("case fields (the patient-case JSON contract; a field left out is not known)")
    for feature in registry.features:
        help_text = feature.help.replace("%", "%%")
        if feature.default is not None:
            help_text += f" Default (echoed as assumed): {feature.default}."
        if feature.required:
            help_text += " Required."
        group.add_argument(feature.flag, dest=feature.name, metavar=feature.choices(), help=help_text)


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "recommend",
        "match a patient case to ACR variants and list the rated studies",
        "Match a patient case to the ACR variants (topics 286 and 235) whose every criterion it entails, and "
        "list their rated studies, the reasons, conflicts, and the candidates with the fields that would "
        "decide them. Describe the case with flags, --case FILE.json (or - for stdin), or many cases with "
        "--cases FILE.jsonl (JSON Lines out).",
    )
    p.set_defaults(run=run_recommend)
    if wanted("recommend"):
        _recommend_arguments(p)

    p = add_command(
        sub,
        "audit",
        "rate a CSV of imaging orders (case fields + procedure) against the criteria",
        "Give each order of a CSV (case-field columns, the ordered 'procedure', an optional 'order_id') the "
        "verdict a careful reviewer would: appropriate only when every matching variant that rates the "
        "procedure agrees; then counts and shares per verdict and per procedure.",
    )
    p.set_defaults(run=run_audit)
    if wanted("audit"):
        from axilla_kg.formats.columnar import COLUMNAR_FORMATS
        from axilla_kg.formats.output import FORMATS

        p.add_argument(
            "orders",
            help="CSV, Parquet (.parquet) or Arrow IPC (.arrow, .feather) with a 'procedure' column and case-field "
            "columns (empty cell or null = not known)",
        )
        add_format(p, [*FORMATS, *COLUMNAR_FORMATS], note="parquet and arrow need --output")
        p.add_argument(
            "-o",
            "--output",
            metavar="PATH",
            help="write the per-order verdicts there (replaced atomically; with --spark always a folder of "
            "Parquet files, which must not exist, and --format chooses the summary's format) and print only "
            "the summary",
        )
        p.add_argument(
            "--spark",
            metavar="MASTER",
            help="judge a Parquet file's orders on Spark (e.g. 'local[2]' or spark://host:7077; needs PySpark)",
        )
        add_data(p)
        add_engine(p)


def _recommend_arguments(p: argparse.ArgumentParser) -> None:
    from axilla_kg.contract.features import shipped_registry
    from axilla_kg.reasoning.reasoner import REASONERS
    from axilla_kg.recommend import batch
    from axilla_kg.recommend.recommender import DETAILS

    add_case_flags(p, shipped_registry())
    p.add_argument("--case", metavar="FILE", help="one case as a JSON object (- for stdin)")
    p.add_argument(
        "--cases",
        metavar="FILE",
        help="JSON Lines, one case per line (- for stdin), or a Parquet/Arrow IPC file of case-field columns (row "
        "N = line N); JSON Lines out",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="with --cases: write the answers there instead of stdout (atomically); a .parquet or .arrow path "
        "gets a table of line, error, field and the JSON answer line",
    )
    add_format(p, ("table", "json"), note="the answer is nested, so there is no csv or tsv; --cases is JSON Lines")
    p.add_argument(
        "--detail",
        choices=(*DETAILS, batch.REF),
        default="full",
        help="full (default): differentials, next steps, pitfalls and related variants of each match; "
        "brief: ratings and explanation only (much smaller batch output); "
        "ref (--cases only): each match as a reference into the --details document",
    )
    p.add_argument(
        "--jobs",
        type=bounded_int(1, 64, "a number of processes"),
        default=None,
        metavar="N",
        help="with --cases: answer the classes of case met for the first time in N worker processes (default: "
        "the usable cores, at most 4; 1: all in this process); the output is the same",
    )
    p.add_argument(
        "--details",
        metavar="FILE",
        help="with --cases --detail ref: write the referenced variant details here (one JSON object)",
    )
    p.add_argument(
        "--reasoner",
        choices=REASONERS,
        default=None,
        help="decide the matches with the OWL reasoner itself (slow; the default fast path gives the same answers)",
    )
    p.add_argument(
        "--procedure",
        metavar="NAME",
        help="an ordered procedure (exact ACR name): the next question is the one that decides it, "
        "and --ask stops once it is decided",
    )
    p.add_argument(
        "--ask",
        action="store_true",
        help="ask the next question on the terminal (answers read from stdin, one per line; an empty "
        "line: not known) until everything (or --procedure) is decided, then print the answer",
    )
    add_data(p)
    add_engine(p)


def _read_case(name: str) -> bytes:
    """The raw bytes of ``--case`` (size-capped; decoded strictly by ``loads_case``)."""
    from axilla_kg.inputs.files import MAX_CASE_BYTES, read_capped

    return read_capped(name, MAX_CASE_BYTES, "case file")


def case_from_flags(args: argparse.Namespace, registry: Registry | None = None) -> dict[str, Any]:
    """Flag strings → a case object, typed as the JSON contract types them (the registry says how)."""
    from axilla_kg.contract.features import shipped_registry

    data: dict[str, Any] = {}
    for feature in (registry or shipped_registry()).features:
        value = getattr(args, feature.name, None)
        if value is None:
            continue
        name = feature.name
        if feature.kind == "integer":
            data[name] = _number(name, value, integer=True)
        elif feature.kind == "decimal":
            data[name] = _number(name, value, integer=False)
        elif feature.kind == "boolean":
            if value not in ("true", "false"):
                from axilla_kg.contract.cases import CaseError

                raise CaseError(name, f"expected true or false, got '{value}'")
            data[name] = value == "true"
        else:
            data[name] = value
    return data


def _number(name: str, text: str, *, integer: bool) -> int | Decimal:
    from axilla_kg.contract.cases import CaseError
    from axilla_kg.inputs.numbers import NumberSyntaxError, parse_decimal, parse_whole

    try:
        return parse_whole(text) if integer else parse_decimal(text)
    except NumberSyntaxError as exc:
        raise CaseError(name, f"expected {exc}") from None


def _recommender(args: argparse.Namespace) -> Recommender:
    from axilla_kg.recommend.recommender import Recommender

    return Recommender.load(graph(args))


def run_recommend(args: argparse.Namespace) -> str | None:
    from axilla_kg.reasoning.reasoner import classify_cases
    from axilla_kg.recommend import batch

    flags = case_from_flags(args)
    sources = [s for s in (args.case, args.cases) if s is not None]
    if len(sources) > 1 or (sources and flags):
        raise UsageError("give the case once: with flags, --case or --cases")
    if (args.detail == batch.REF) != (args.details is not None) or (args.details and args.cases is None):
        raise UsageError("--detail ref and --details FILE go together, with --cases")
    if args.output is not None and args.cases is None:
        raise UsageError("--output writes the answers of --cases: give --cases FILE")
    if args.jobs is not None and args.cases is None:
        raise UsageError("--jobs sets the processes of --cases: give --cases FILE")
    if args.cases is not None:
        if args.ask or args.procedure is not None:
            raise UsageError("--ask and --procedure work on one case; batch lines carry next_question")
        if args.reasoner:
            raise UsageError("--reasoner works on one case at a time; batch mode uses the fast path")
        _run_batch(args)
        return None
    if args.case is None and not flags:
        raise UsageError("describe a case: e.g. --sex female --breast-cancer new --tumor-size-cm 1.5, or --case FILE")
    if args.ask and (args.case == "-" or args.reasoner):
        raise UsageError(
            "--ask reads the answers from stdin and uses the fast path: give the case with flags or --case FILE"
        )
    recommender = _recommender(args)
    procedure = _procedure(recommender, args.procedure)
    data: Any = flags
    if args.case is not None:
        from axilla_kg.contract.cases import CaseError
        from axilla_kg.inputs import safejson

        try:
            data = safejson.loads(_read_case(args.case))
        except safejson.JSONInputError as exc:
            raise CaseError(exc.field, str(exc)) from None
    case = recommender.reader.parse(data)
    if args.ask:
        from axilla_kg.cli.asking import ask

        result = ask(recommender, data, procedure, args.detail, sys.stdin.buffer, sys.stderr)
        return (
            json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n"
            if args.format == "json"
            else render_text(result)
        )
    matched = None
    if args.reasoner:
        matched = classify_cases([case], reasoner=args.reasoner, extra=args.data)[0]
    result = recommender.recommend(case, matched, detail=args.detail, procedure=procedure)
    if args.reasoner:
        result["decided_by"] = args.reasoner
    if args.format == "json":
        return json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n"
    return render_text(result)


def _procedure(recommender: Recommender, name: str | None) -> str | None:
    """``--procedure``: an exact procedure name of the graph, or a one-line error naming the flag."""
    if name is None or name in recommender.procedures:
        return name
    import difflib

    close = difflib.get_close_matches(name, recommender.procedures, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UsageError(f"--procedure: {name!r} is not a procedure of this graph{hint}")


def _run_batch(args: argparse.Namespace) -> None:
    """Stream the cases as bytes: each line is decoded on its own, so one bad line (even invalid
    UTF-8) gets its own error line and the rest are answered."""
    from axilla_kg.formats.atomic import write_atomically
    from axilla_kg.inputs.arrowfile import is_columnar, json_lines
    from axilla_kg.recommend import batch

    recommender = _recommender(args)
    stream: IO[bytes]
    if args.cases == "-":
        stream = sys.stdin.buffer
    elif is_columnar(args.cases):
        stream = json_lines(args.cases)  # the header is checked here, before any output
    else:
        try:
            stream = open(args.cases, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise DataError(f"{args.cases}: cannot read: {exc.strerror}") from None
    try:
        with bulk_collection():
            if args.output is not None:
                counts = _batch_to_file(args, recommender, stream)
            else:
                counts = batch.run(
                    recommender,
                    stream,
                    sys.stdout,
                    progress=batch.progress_stream(),
                    detail=args.detail,
                    jobs=_jobs(args),
                )
                sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()
        return None
    except batch.BatchOutputError as exc:
        raise DataError(str(exc)) from None
    except OSError as exc:
        raise DataError(f"{args.cases}: cannot read: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if args.details is not None:
        write_atomically(args.details, batch.details_document(counts["details"]).decode())
    return None


def _batch_to_file(args: argparse.Namespace, recommender: Recommender, stream: IO[bytes]) -> Any:
    """``--cases ... --output PATH``: the answers streamed into a file that replaces PATH only when
    every line was answered (Parquet or Arrow IPC by the suffix, JSON Lines otherwise)."""
    from axilla_kg.formats.atomic import open_atomically
    from axilla_kg.formats.columnar import JsonLinesTable
    from axilla_kg.inputs.arrowfile import ARROW_SUFFIXES, PARQUET_SUFFIXES
    from axilla_kg.recommend import batch

    suffix = Path(args.output).suffix.lower()
    fmt = "parquet" if suffix in PARQUET_SUFFIXES else "arrow" if suffix in ARROW_SUFFIXES else None
    with open_atomically(args.output) as out:
        sink: Any = out if fmt is None else JsonLinesTable(out, fmt)
        counts = batch.run(
            recommender, stream, sink, progress=batch.progress_stream(), detail=args.detail, jobs=_jobs(args)
        )
        if fmt is not None:
            sink.close()
    return counts


def _jobs(args: argparse.Namespace) -> int:
    """``--jobs``, or the usable cores (at most four): the fastest setting measured."""
    from axilla_kg.recommend.workers import default_jobs

    return int(args.jobs) if args.jobs is not None else default_jobs()


def run_audit(args: argparse.Namespace) -> str:
    from axilla_kg.recommend import audit

    orders = Path(args.orders)
    if args.format in ("parquet", "arrow") and args.output is None:
        raise UsageError(f"--format {args.format} writes a binary file: give --output PATH")
    if args.spark is not None:
        return _audit_on_spark(args, orders)
    recommender = _recommender(args)
    with bulk_collection():
        if args.output is None:
            return audit.render_audit(audit.audit_orders(recommender, orders), args.format)
        summary = audit.write_audit(recommender, orders, Path(args.output), args.format)
    return audit.render_summary(summary, "table" if args.format in ("parquet", "arrow") else args.format)


def _audit_on_spark(args: argparse.Namespace, orders: Path) -> str:
    from axilla_kg import spark
    from axilla_kg.recommend import audit

    if orders.suffix.lower() not in (".parquet", ".parq") and not orders.is_dir():
        raise UsageError("--spark reads Parquet: give a .parquet file or a folder of them")
    if not orders.exists():
        raise DataError(f"{orders}: no such file")
    if args.format == "arrow":
        raise UsageError("with --spark the verdicts are written as Parquet: use --format parquet (or a summary format)")
    if args.output is not None and Path(args.output).exists():
        raise DataError(f"{args.output}: exists; Spark writes a new folder there")
    kg = graph(args)
    session = spark.session(args.spark)
    try:
        frame = spark.read_orders(session, orders)
        verdicts = spark.audit_dataframe(frame, kg, line_column=spark.ROW_INDEX, source=orders.name)
        if args.output is not None:
            verdicts.write.parquet(str(args.output))
            verdicts = session.read.parquet(str(args.output))
        counts = verdicts.groupBy("procedure", "verdict").count().collect()
    except AxillaKGError:
        raise
    except Exception as exc:  # a failed Spark job (Py4J / PySpark errors): one line, no Java stack
        raise DataError(f"the Spark job failed: {spark.first_line(exc)}") from None
    finally:
        session.stop()
    summary = audit.AuditSummary()
    for row in counts:
        summary.add_count(row["procedure"], row["verdict"], int(row["count"]))
    return audit.render_summary(summary, "table" if args.format in ("parquet", "arrow") else args.format)


# --- the table for people -------------------------------------------------------------------------
def _case_line(case: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v) if isinstance(v, bool) else v}" for k, v in case.items())


def _rating_rows(ratings: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for r in ratings:
        confidence = r.get("confidence")
        shown = f"{confidence} (!)" if confidence in LOW_CONFIDENCE else confidence
        rows.append([r["procedure"], r["category"], r["rrl"], shown])
    return rows


def _variants(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{v['topic']} V{v['variant']}" + ("?" if v.get("status") == "candidate" else "") for v in items)


def question_line(question: dict[str, Any]) -> str:
    """The next question in one line: label, field, the answers it takes, and why it is asked."""
    values = question.get("values")
    if values is None:
        choices = " | ".join(question.get("ranges") or []) + (f" ({question['unit']})" if question.get("unit") else "")
    else:
        choices = " | ".join(json.dumps(v) if isinstance(v, bool) else str(v) for v in values)
    return f"{question['label']} ({question['field']}: {choices}) - {question['why']}"


def specificity(conflict: dict[str, Any]) -> str:
    """Which side of a conflict the reasoner shows strictly more specific, or '-' (a plain conflict)."""
    lead = conflict.get("more_specific")
    if not lead:
        return "-"
    return f"{_variants(lead['variants'])}: {lead['category']} (class inside {_variants(lead['inside'])})"


def _decided_lines(result: dict[str, Any]) -> list[str]:
    """The answer first: the decided procedures, then the one question that decides the most."""
    from axilla_kg.formats.output import text_table

    out: list[str] = []
    decided = result.get("decided") or []
    if decided:
        out.append("\nDECIDED by the facts given (every variant that could still apply agrees; ? = candidate):")
        rows = [[*_rating_rows([d])[0], _variants(d["variants"])] for d in decided]
        out.append(text_table(["procedure", "category", "rrl", "confidence", "variants"], rows))
    question = result.get("next_question")
    if question:
        out.append("\nNext question: " + question_line(question))
    return out


def render_text(result: dict[str, Any]) -> str:
    from axilla_kg.formats.output import text_table

    out = [f"Case: {_case_line(result['case'])}"]
    if result.get("assumed"):
        out.append("Assumed (not given): " + _case_line(result["assumed"]))
    if result.get("derived"):
        out.append("Derived from the facts given: " + _case_line(result["derived"]))
    if result.get("decided_by"):
        out.append(f"Matches decided by the {result['decided_by']} reasoner.")
    out.extend(_decided_lines(result))
    if not result["matches"]:
        out.append("\nNo ACR variant in this graph matches the case.")
    low = False
    for m in result["matches"]:
        out.append(f"\nACR topic {m['topic']}, variant {m['variant']}: {m['title']}")
        if not m["complete"]:
            out.append(
                "Rating table INCOMPLETE in this graph: an unlisted procedure is unrated here, not 'not appropriate'."
            )
        out.append(text_table(["procedure", "category", "rrl", "confidence"], _rating_rows(m["ratings"])))
        low = low or any(r.get("confidence") in LOW_CONFIDENCE for r in m["ratings"])
        why = "; ".join(
            f"{e['field']} {e['requirement']}"
            + ("" if e["source"] == "title" else f" [{e['confidence']}: {e['source']}]")
            for e in m["explanation"]
        )
        out.append(f"Matched because: {why}")
        if m.get("differentials"):
            out.append(
                "Differentials: "
                + "; ".join(
                    f"{d['diagnosis']} ({d['likelihood'] or 'likelihood not stated'})" for d in m["differentials"]
                )
            )
        for step in m.get("next_steps", []):
            out.append(f"Next: if {step['outcome']} -> {', '.join(step['next_steps'])}")
        for pit in m.get("pitfalls", []):
            out.append(f"Pitfall: {pit['pitfall']} (avoid: {', '.join(pit['avoided_by'])})")
    if low:
        out.append("\n(!) low confidence: inferred, truncated or conflicting sources; not a plain ACR answer.")
    if result.get("conflicts"):
        out.append(
            "\nCONFLICTS between matching variants (never resolved by picking one; 'more specific': the reasoner "
            "shows that variant's patient class strictly inside the others'):"
        )
        rows = [
            [
                c["procedure"],
                "; ".join(f"{r['topic']} V{r['variant']}: {r['category']}" for r in c["ratings"]),
                ", ".join(c["differs_in"]),
                specificity(c),
            ]
            for c in result["conflicts"]
        ]
        out.append(text_table(["procedure", "ratings", "variants differ in", "more specific"], rows, max_width=80))
    if result["needs"]:
        out.append("\nUndecided: the case leaves out " + ", ".join(result["needs"]))
        titled = all("title" in c for c in result["candidates"])  # --detail brief leaves titles out
        rows = [
            [f"{c['topic']} V{c['variant']}", ", ".join(c["needs"]), *([c["title"]] if titled else [])]
            for c in result["candidates"]
        ]
        out.append(text_table(["could match", "needs", *(["title"] if titled else [])], rows, max_width=80))
    if result["nearest"]:
        out.append("\nNearest variants where nothing matches:")
        titled = all("title" in n for n in result["nearest"])
        rows = [
            [f"{n['topic']} V{n['variant']}", ", ".join(n["differs_in"]), *([n["title"]] if titled else [])]
            for n in result["nearest"]
        ]
        out.append(text_table(["variant", "differs in", *(["title"] if titled else [])], rows, max_width=80))
    out.append(
        "\nSource: ACR Appropriateness Criteria (c) American College of Radiology; "
        "authoritative tables at https://acsearch.acr.org"
    )
    return "\n".join(out) + "\n"
