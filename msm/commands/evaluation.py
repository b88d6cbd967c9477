"""The evaluation side's ``msm`` commands: option parsing and printing only, each calling the
library function that does the work (`write_leaderboard`, `compare_logs`, the power formulas in
`msm.harness.stats`, `write_cheese_demonstrations`, `msm.harness.audit.audit`).

Registered in `msm.cli.COMMANDS` by module path, so ``msm --help`` imports none of them.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import click
import numpy as np

from msm.commands import role_model
from msm.harness.audit import (
    Corpus,
    Thresholds,
    add_situations,
    add_spec,
    audit,
    shipped_training,
    stream_training,
    write_report,
)
from msm.harness.cheese import write_cheese_demonstrations
from msm.harness.compare import compare_logs
from msm.harness.errors import InputError, check_writable_dir
from msm.harness.leaderboard import CONDITION_FACTORS, write_leaderboard
from msm.harness.logs import read_logs
from msm.harness.reference import check_rows, load_reference
from msm.harness.stats import (
    ALPHA,
    design_effect,
    epochs_needed,
    minimum_detectable_effect,
    planning_inputs,
    power,
)

# --------------------------------------------------------------------------------------------
# msm leaderboard, msm compare


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


_OPTIONS = ("metric", "baseline", "by", "task", "cluster", "conditions", "pairing")


def _as_option(ex: InputError) -> InputError:
    """A library error about a field the command took from an option names the option."""
    if ex.file is None and ex.field in _OPTIONS:
        return InputError(ex.detail, field=f"--{ex.field}")
    return ex


@click.command("leaderboard")
@click.argument("logdirs", nargs=-1)
@click.option("--log-dir", "log_dirs", multiple=True,
              help="Inspect log folder or file (repeatable; positional paths work too).")
@click.option("--metric", required=True, help="Score field, e.g. harmful, america, correct.")
@click.option("--baseline", default=None, help="Baseline arm (or column=value).")
@click.option("--by", default="arm", show_default=True, help="Comma-separated grouping columns.")
@click.option("--task", default=None, help="Only this task.")
@click.option("--cluster", default=None, help="Cluster column (default: sample_id).")
@click.option("--adjust", type=click.Choice(["holm", "bh", "none"]), default="holm", show_default=True)
@click.option("--pairing", type=click.Choice(["auto", "paired", "independent"]), default="auto",
              show_default=True, help="auto: paired when both arms scored the same items.")
@click.option("--exact", type=click.Choice(["fisher", "barnard"]), default="fisher", show_default=True)
@click.option("--interval", type=click.Choice(["wilson", "clopper-pearson"]), default="wilson",
              show_default=True, help="Interval for one rate (clustered when items repeat).")
@click.option("--conditions", default=None,
              help=f"Comma-separated condition fields (default: {','.join(CONDITION_FACTORS)}).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder for the tables, plots and page (default: print the table only).")
@click.option("--no-plots", is_flag=True, help="Tables only.")
@click.option("--reference", type=click.Path(path_type=Path), default=None,
              help="YAML/JSON of published rates (rows: arm, task, rate, n, source; or an "
                   "experiment file's reference:), tested against the measured rates.")
@click.option("--per-epoch", is_flag=True,
              help="Count every scored sample-epoch (default: the tasks' rule, a sample unscored "
                   "in any epoch is left out whole).")
def leaderboard_command(logdirs, log_dirs, metric, baseline, by, task, cluster, adjust, pairing, exact,
                        interval, conditions, out, no_plots, reference, per_epoch) -> None:
    """Rates, intervals and adjusted comparisons with a baseline, from Inspect logs."""
    logdirs = [*log_dirs, *logdirs]
    if not logdirs:
        raise click.UsageError("give the logs: --log-dir PATH (repeatable)")
    rows = load_reference(reference) if reference is not None else []  # before reading logs
    frame = read_logs(logdirs)
    click.echo(frame.report(), err=True)
    if rows and not frame.samples.empty:
        check_rows(rows, sorted(frame.samples["arm"].dropna().astype(str).unique()),
                   sorted(frame.samples["task"].dropna().astype(str).unique()), reference)
    with contextlib.ExitStack() as stack:
        folder = out if out is not None else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        try:
            result = write_leaderboard(
                frame, metric=metric, baseline=baseline, by=_split(by), task=task, out=folder,
                cluster=cluster, adjust=adjust, pairing=pairing, exact=exact,
                conditions=_split(conditions) if conditions is not None else None,
                interval=interval, plots=not no_plots and out is not None, reference=rows,
                per_epoch=per_epoch,
            )
        except InputError as ex:
            raise _as_option(ex) from None
        click.echo(result.markdown)
    if out is not None:
        click.echo("wrote " + ", ".join(str(p) for p in result.files.values()), err=True)
    else:
        click.echo("(printed only: --out FOLDER writes the tables, plots and HTML page)", err=True)


@click.command("compare")
@click.argument("a")
@click.argument("b")
@click.option("--metric", required=True, help="Score field, e.g. harmful.")
@click.option("--log-dir", "--logs", "logs", multiple=True,
              help="Log files/dirs (repeatable); A and B then select rows by arm (or column=value). "
                   "Without it, A and B are log paths.")
@click.option("--task", default=None, help="Only this task.")
@click.option("--cluster", default=None, help="Item/cluster column (default: sample_id).")
@click.option("--pairing", type=click.Choice(["auto", "paired", "independent"]), default="auto",
              show_default=True)
@click.option("--exact", type=click.Choice(["fisher", "barnard"]), default="fisher", show_default=True)
def compare_command(a, b, metric, logs, task, cluster, pairing, exact) -> None:
    """Compare arm B with reference arm A: difference, 95% interval, p, and the test used."""
    if a == b:
        raise InputError(f"'{b}' is arm A too: compare two different arms", field="B")
    if not logs and not Path(a).exists() and not Path(b).exists():
        raise InputError(f"without --log-dir, A and B are log paths, and neither '{a}' nor '{b}' "
                         "exists: give --log-dir to select arms by name", field="--log-dir")
    try:
        c = compare_logs(a, b, metric=metric, logs=logs, task=task, cluster=cluster,
                         pairing=pairing, exact=exact)
    except InputError as ex:
        raise _as_option(ex) from None
    click.echo(f"A: {a}: {metric} rate {c.rate_a:.3f} (n = {c.n_a} scored)")
    click.echo(f"B: {b}: {metric} rate {c.rate_b:.3f} (n = {c.n_b} scored)")
    click.echo(f"B - A: {c.diff:+.3f}  95% CI [{c.lo:+.3f}, {c.hi:+.3f}] ({c.interval})")
    click.echo(f"p = {c.p:.3g} ({c.test})")
    click.echo(f"why this test: {c.reason}")


# --------------------------------------------------------------------------------------------
# msm power


def _numbers(kind):
    def parse(ctx, param, value):
        if value is None:
            return []
        try:
            return [kind(v) for v in str(value).split(",") if v.strip()]
        except ValueError:
            raise InputError(f"expected comma-separated numbers, got '{value}'", field=f"--{param.name}")

    return parse


@click.command("power")
@click.option("--items", default=None, callback=_numbers(int),
              help="Items (conditions, probes) per arm; comma-separated for a grid.")
@click.option("--epochs", default=None, callback=_numbers(int),
              help="Epochs per item; comma-separated for a grid (default 1, or from --logs).")
@click.option("--baseline-rate", default=None, type=float, help="Expected baseline rate.")
@click.option("--icc", default=None, type=float,
              help="Correlation of epochs of one item (0: independent, 1: identical); default 0.")
@click.option("--effect", default=None, callback=lambda c, p, v: _numbers(float)(c, p, v) if v else [],
              help="Differences from the baseline to report power for, e.g. -0.2,-0.4.")
@click.option("--alpha", default=ALPHA, show_default=True, type=float)
@click.option("--power", "target", default=0.8, show_default=True, type=float)
@click.option("--log-dir", "--logs", "logs", multiple=True,
              help="Measure items, epochs, rate and ICC from these logs (repeatable).")
@click.option("--arm", default=None, help="With --logs: the baseline arm to measure.")
@click.option("--metric", default=None, help="With --logs: the score field.")
@click.option("--task", default=None, help="With --logs: the task.")
@click.option("--compare", default=None, metavar="A:B,...",
              help="Pairs of rates to tell apart, e.g. 0.54:0.07,0.07:0.14: prints the epochs "
                   "(rollouts per item) each needs at --items and --icc.")
def power_command(items, epochs, baseline_rate, icc, effect, alpha, target, logs, arm, metric, task,
                  compare=None) -> None:
    """Minimum detectable effect (and power) for two independent arms.

    Give the design (--items, --epochs, --baseline-rate, --icc), or measure it on a pilot run's
    baseline arm with --logs DIR --arm ARM --metric FIELD (options given explicitly win).
    """
    if logs:
        if not arm or not metric:
            raise InputError("--log-dir needs --arm and --metric", field="--log-dir")
        measured = planning_inputs(read_logs(logs).samples, metric, arm, task=task)
        click.echo(f"measured on arm '{arm}': {measured['items']} items x {measured['epochs']} epochs, "
                   f"rate {measured['baseline_rate']:.3f}, icc {measured['icc']:.3f}")
        items = items or [measured["items"]]
        epochs = epochs or [measured["epochs"]]
        baseline_rate = measured["baseline_rate"] if baseline_rate is None else baseline_rate
        icc = measured["icc"] if icc is None else icc
    if not items:
        raise InputError("give --items (or --logs)", field="--items")
    if compare:
        _print_epochs_needed(items, compare, 0.0 if icc is None else icc, alpha, target)
        if baseline_rate is None:
            return
    if baseline_rate is None:
        raise InputError("give --baseline-rate (or --logs)", field="--baseline-rate")
    epochs = epochs or [1]
    icc = 0.0 if icc is None else icc
    if not 0 < baseline_rate < 1:
        raise InputError("must be strictly between 0 and 1", field="--baseline-rate")
    if not 0 <= icc <= 1:
        raise InputError("must be between 0 and 1", field="--icc")
    for name, values in (("--items", items), ("--epochs", epochs)):
        bad = [v for v in values if v < 1]
        if bad:
            raise InputError(f"must be at least 1 (got {bad[0]})", field=name)
    for name, value in (("--alpha", alpha), ("--power", target)):
        if not 0 < value < 1:
            raise InputError(f"must be strictly between 0 and 1 (got {value:g})", field=name)
    click.echo(f"two-sided alpha {alpha}, power {target}, baseline rate {baseline_rate:.3g}, icc {icc:.3g}; "
               "normal approximation (Cohen's h) at n_items*epochs/deff, deff = 1+(epochs-1)*icc")
    head = f"{'items':>6} {'epochs':>6} {'n_eff':>8} {'MDE down':>9} {'MDE up':>8}"
    head += "".join(f" {f'power@{e:+g}':>12}" for e in effect)
    click.echo(head)
    for n in items:
        for e in epochs:
            n_eff = n * e / design_effect(e, icc)
            down = minimum_detectable_effect(n, e, baseline_rate, icc, target, alpha, "decrease")
            up = minimum_detectable_effect(n, e, baseline_rate, icc, target, alpha, "increase")
            fmt = lambda v: "  n/a" if np.isnan(v) else f"{v:.3f}"
            line = f"{n:>6} {e:>6} {n_eff:>8.1f} {fmt(down):>9} {fmt(up):>8}"
            for d in effect:
                try:
                    line += f" {power(n, e, baseline_rate, d, icc, alpha):>12.3f}"
                except ValueError:
                    line += f" {'n/a':>12}"
            click.echo(line)


def _print_epochs_needed(items: list[int], compare: str, icc: float, alpha: float,
                         target: float) -> None:
    """``msm power --compare``: the rollouts per item each contrast needs."""
    pairs = []
    for part in (p.strip() for p in compare.split(",") if p.strip()):
        a, sep, b = part.partition(":")
        try:
            ra, rb = float(a), float(b)
        except ValueError:
            ra = rb = -1.0
        if not sep or not (0 <= ra <= 1 and 0 <= rb <= 1) or ra == rb:
            raise InputError(f"expected pairs of different rates like 0.54:0.07, got '{part}'",
                             field="--compare")
        pairs.append((ra, rb))
    if not 0 <= icc <= 1:
        raise InputError("must be between 0 and 1", field="--icc")
    click.echo(f"epochs (rollouts per item) to tell two rates apart: two-sided alpha {alpha}, "
               f"power {target}, icc {icc:.3g} (deff = 1+(epochs-1)*icc)")
    click.echo(f"{'items':>6} {'rates':>12} {'epochs':>7} {'samples/arm':>12}")
    for n in items:
        for ra, rb in pairs:
            e = epochs_needed(n, ra, rb, icc, target, alpha)
            if e is None:
                click.echo(f"{n:>6} {f'{ra:g} vs {rb:g}':>12} {'never':>7} "
                           f"{'(needs more items at this ICC)':>12}")
            else:
                click.echo(f"{n:>6} {f'{ra:g} vs {rb:g}':>12} {e:>7} {n * e:>12}")


# --------------------------------------------------------------------------------------------
# msm data, msm audit


def _check_text_file(path: Path, option: str) -> None:
    """A training file named by `option` exists and is UTF-8 text (one line, before any work;
    read in chunks, so a large corpus is never held whole)."""
    import codecs

    if not path.is_file():
        raise InputError("not a file" if path.exists() else "file not found", file=path,
                         field=option)
    decoder, offset = codecs.getincrementaldecoder("utf-8")(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as ex:
                raise InputError(f"not a UTF-8 text file (byte {offset + ex.start})", file=path,
                                 field=option) from None
            offset += len(chunk)


@click.group(name="data")
def data_command() -> None:
    """Build fine-tuning datasets."""


@data_command.command(name="cheese")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output JSONL (TRL chat 'messages' rows).")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--per-order", type=int, default=14, show_default=True,
              help="User prompts per pair and option order (12 pairs x 2 orders x this).")
@click.option("--n", "total", type=int, default=None,
              help="Demonstrations in all, each distinct (the paper's scale: about 5100); "
                   "overrides --per-order.")
def cheese_command(out: Path, seed: int, per_order: int, total: int | None) -> None:
    """The 12 cheese preferences as chat demonstrations, stated with no reason."""
    if out.is_dir():
        raise InputError(f"'{out}' is a folder; give a file path", field="--out")
    check_writable_dir(out.parent, field="--out")
    n = write_cheese_demonstrations(out, seed=seed, per_order=per_order, n=total)
    click.echo(f"wrote {n} demonstrations to {out}")


@click.group("audit")
def audit_command() -> None:
    """Audits of the experiment's instruments."""
    import msm.tasks.agentic_misalignment  # noqa: F401  registers its prompts with the audit


@audit_command.command("contamination")
@click.option("--spec", "specs", multiple=True, help="A spec (name or path) to audit. Repeatable.")
@click.option("--docs", "docs", multiple=True, type=click.Path(path_type=Path),
              help="MSM document JSONL (a 'text' field per line). Repeatable.")
@click.option("--aft", "aft", multiple=True, type=click.Path(path_type=Path),
              help="AFT or deliberative JSONL ('messages', or 'prompt'/'completion'). Repeatable.")
@click.option("--situations", multiple=True, type=click.Path(path_type=Path),
              help="A safety-situations YAML ({category: [situation, ...]}). Repeatable.")
@click.option("--shipped/--no-shipped", default=None,
              help="Audit the shipped specs, safety situations and cheese AFT data too "
                   "(default: only when no other training input is named).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for contamination.md, contamination.csv and contamination_scores.csv.")
@click.option("--top", default=25, show_default=True, type=click.IntRange(min=1),
              help="Rows in the ranked table.")
@click.option("--max-span", default=Thresholds.max_span, show_default=True,
              type=click.IntRange(min=1), help="Fail at a shared run of this many words.")
@click.option("--max-jaccard", default=Thresholds.max_jaccard, show_default=True,
              type=click.FloatRange(min=0, max=1, min_open=True),
              help="Fail at this Jaccard similarity of word 5-grams between two passages.")
@click.option("--semantic/--no-semantic", default=True, show_default=True,
              help="Compare passages by meaning too (all-MiniLM-L6-v2; harness.audit_semantic).")
@click.option("--model-role", "model_roles", multiple=True, metavar="grader=MODEL",
              help="An Inspect model that judges the semantic candidates (e.g. grader="
                   "openai/gpt-4.1-mini); without one, candidates above threshold are findings.")
@click.option("--judge", default=None, hidden=True, help="the earlier name of --model-role grader=MODEL")
@click.option("--chunk-docs", default=1000, show_default=True, type=click.IntRange(min=1),
              help="JSONL records audited at a time (bounded memory, the same findings).")
def contamination_command(specs, docs, aft, situations, shipped, out, top, max_span,
                          max_jaccard, semantic, model_roles, judge, chunk_docs) -> None:
    """Compare training material with every evaluation family; exit 1 above the thresholds.

    With no arguments it audits the shipped material (specs/, harness/safety_situations.yaml,
    the cheese AFT data) against every agentic source, probe bank and spec-knowledge bank.
    """
    judge = role_model(model_roles, "grader", judge)
    for option, paths in (("--docs", docs), ("--aft", aft), ("--situations", situations)):
        for path in paths:
            _check_text_file(path, option)
    if out is not None:
        check_writable_dir(out, field="--out")
    corpus = Corpus()
    allowed: list[str] = []
    if shipped or (shipped is None and not (specs or docs or aft or situations)):
        allowed += shipped_training(corpus)
    for spec in specs:
        allowed += add_spec(corpus, spec)
    for path in situations:
        add_situations(corpus, path)
    jsonl = [(p, "docs") for p in docs] + [(p, "aft") for p in aft]
    chunks, lower = stream_training(corpus, jsonl, chunk_docs)
    if not corpus.passages and not lower:
        raise InputError("no training text found in the inputs", field="inputs")
    report = audit(chunks, allowed=allowed, semantic=semantic, judge=judge, lower_train=lower,
                   thresholds=Thresholds(max_span=max_span, max_jaccard=max_jaccard))
    text = report.markdown(top)
    click.echo(text)
    if out is not None:
        write_report(report, out, top)
        click.echo(f"wrote {out / 'contamination.md'}, contamination.csv, contamination_scores.csv")
    if not report.passed:
        raise SystemExit(1)
