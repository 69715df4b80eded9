"""Step 1 commands: init, ingest, overview, segments, kwic, sources, participants."""

from __future__ import annotations

import click

from .common import Env, echo_json, echo_table, json_option, pass_env, progress_factory, refuse_overwrite, whose_option


@click.command()
@click.option("--codebook", type=click.Path(exists=True, dir_okay=False), help="YAML codebook to load.")
@click.option("--language", type=click.Choice(["nl", "en"]), default=None,
              help="Language of the transcripts (default: the codebook's, else nl).")
@click.option("--name", default="", help="A name for the project (default: the file name).")
@click.option("--force", is_flag=True, help="Start over if the project file exists (it is backed up first).")
@pass_env
def init(env: Env, codebook, language, name, force):
    """Create a new project file (default ./project.qualcode)."""
    from ..ingest.project import init_project
    from .formatting import new_project

    created = init_project(env.project_path, codebook=codebook, language=language, name=name, force=force)
    click.echo("\n".join(new_project(created)))


@click.command()
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--participants", type=click.Path(exists=True, dir_okay=False),
              help="CSV/XLSX with one row per participant: group, participant and attribute columns; a name "
                   "column maps speakers' names to keys, a role column marks moderators.")
@click.option("--group", help="Focus group of these files (else a '# group:' header or the file name).")
@click.option("--group-from", type=click.Choice(["filename", "column", "folder"]), default=None,
              help="Give each file its own group: from its file name, a table's group column, or its folder.")
@click.option("--split", type=click.Choice(["turn", "sentences", "paragraphs"]), default="turn", show_default=True,
              help="Segment unit: a whole speaker turn, or cut turns into sentences or paragraphs.")
@click.option("--replace", is_flag=True, help="Replace a changed file that was ingested before "
                                              "(codings on unchanged text are carried over).")
@click.option("--allow-new-speakers", is_flag=True,
              help="Create participants for speakers not in the metadata (names get the next free P-number).")
@click.option("--speaker-label", "speaker_labels", multiple=True, metavar="LABEL=KEY",
              help="Say who an unknown label is: \"Student=Moderator\", \"Q=P1\", \"R=F2 P3\", or "
                   "\"Citaat=text\" for a line that only looks like a label. Repeatable.")
@click.option("--moderator", "moderators", multiple=True, metavar="NAME",
              help="A speaker name that is a moderator (Teams, Zoom). Repeatable.")
@click.option("--default-speaker", metavar="KEY",
              help="Who speaks in unlabelled lines, cues or rows (one-to-one interviews: P1).")
@click.option("--names-file", type=click.Path(dir_okay=False),
              help="Where the name -> key table is kept (default: <project>-speaker-names.csv beside the "
                   "project). It holds real names.")
@click.option("--strict", is_flag=True, help="Refuse table rows with text but no speaker (default: keep them "
                                             "as unattributed context).")
@click.option("--column", "columns", multiple=True, metavar="ROLE=NAME",
              help="For tables: which column holds group, speaker, text, timestamp, codes or coder "
                   "(e.g. --column text=utterance_text). Repeatable.")
@click.option("--coder", envvar="QUALCODE_CODER", default=None, metavar="NAME",
              help="Coder for codes carried in a table without a coder column.")
@click.option("--create-codes", is_flag=True,
              help="Create the codes of a coded table that the codebook lacks (ids made from the names, names "
                   "kept as written, under the theme 'nieuw'/'new').")
@pass_env
def ingest(env: Env, files, participants, group, group_from, split, replace, allow_new_speakers, speaker_labels,
           moderators, default_speaker, names_file, strict, columns, coder, create_codes):
    """Read transcripts (.txt .md .docx .odt .rtf .vtt .srt .csv .xlsx) into segments.

    \b
    Examples:
      qualcode ingest transcripts/*.txt --participants participants.csv
      qualcode ingest teams.vtt --group F1 --moderator "An De Smet" --allow-new-speakers
      qualcode ingest interview.docx --group I1 --speaker-label "Student=Moderator" --default-speaker P1
      qualcode ingest klassen/*/*.xlsx --group-from folder --allow-new-speakers
    """
    from ..ingest import ingest as run
    from ..ingest import parse_column_options

    mapping = parse_column_options(columns)
    report = run(env.open(), files, participants=participants, group=group, split=split, replace=replace,
                 allow_new_speakers=allow_new_speakers, columns=mapping or None, coder=coder,
                 progress=progress_factory(), speaker_labels=speaker_labels, moderators=moderators,
                 default_speaker=default_speaker, names_file=names_file, group_from=group_from, strict=strict,
                 create_codes=create_codes)
    for line in report.lines():
        click.echo(line)


@click.command()
@click.option("--out", "outs", multiple=True, type=click.Path(dir_okay=False),
              help="Also write the overview to .md or .xlsx (repeat for both: --out a.md --out a.xlsx).")
@click.option("--terms", default=12, show_default=True, help="Distinctive terms per group.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@json_option
@pass_env
def overview(env: Env, outs, terms, force, as_json):
    """Step 1: talk per group and participant, voice balance, distinctive terms."""
    from ..familiarise.overview import build_overview, format_overview, write_overview

    for out in outs:  # every file checked before anything is computed or written
        refuse_overwrite(out, force)
    ov = build_overview(env.open(), top_terms=terms)
    if as_json:
        echo_json("overview", ov.to_dict())
    else:
        click.echo(format_overview(ov) + ("\n" if outs else ""))
    for out in outs:
        click.echo(f"wrote {write_overview(ov, out)}", err=as_json)


@click.command()
@click.option("--split", type=click.Choice(["turns", "sentences", "paragraphs"]), required=True,
              help="The new segment unit: whole speaker turns, or turns cut into sentences or paragraphs.")
@click.option("--source", help="Only this source (its file name, see 'qualcode sources').")
@click.option("--group", help="Only the sources of this focus group.")
@pass_env
def resegment(env: Env, split, source, group):
    """Re-cut already ingested sources into new segments; every coding keeps its words.

    Codings move to the new segment holding their words (a whole-turn coding cut into sentences
    becomes one coding per sentence); memos on segments follow their text. The project is backed
    up first; this cannot be undone with 'qualcode undo'.
    """
    from ..ingest.resegment import resegment as run

    for line in run(env.open(), split, source=source, group=group).lines():
        click.echo(line)


@click.command()
@click.option("--group", help="Only this focus group, e.g. F2.")
@click.option("--participant", help="Only this participant: P2 with --group F2, or 'F2 P2'.")
@click.option("--source", help="Only this source file name.")
@click.option("--moderator/--no-moderator", default=True, help="Show moderator turns (context).")
@click.option("--codes", "show_codes", is_flag=True, help="Show each segment's codes.")
@click.option("--limit", type=int, help="At most this many segments.")
@click.option("--code", help="Only segments coded with this code (its key), by any coder.")
@click.option("--theme", help="Only segments coded with a code of this theme (its key), by any coder.")
@pass_env
def segments(env: Env, group, participant, source, moderator, show_codes, limit, code, theme):
    """Read segments in transcript order, with their (F2 P2) key and id."""
    from ..ingest.project import list_segments
    from .formatting import segment_lines

    for line in segment_lines(list_segments(env.open(), group=group, participant=participant, source=source,
                                            moderator=moderator, show_codes=show_codes, limit=limit,
                                            code=code, theme=theme)):
        click.echo(line)


@click.command()
@click.argument("term")
@click.option("--width", default=40, show_default=True, help="Characters of context on each side.")
@click.option("--group", help="Only this focus group.")
@click.option("--limit", type=int, help="At most this many lines.")
@pass_env
def kwic(env: Env, term, width, group, limit):
    """Keyword in context: TERM (matched on lemmas; 'werk*' for a prefix) with its (F2 P2) key.

    A hit inside a coded fragment ends with that fragment's codes in [brackets].
    """
    from ..familiarise.overview import kwic as run

    hits = run(env.open(), term, width=width, group=group, limit=limit)
    for h in hits:
        coded = f" [{', '.join(h['fragment_codes'])}]" if h["fragment_codes"] else ""
        click.echo(f"{h['left']:>{width}} [{h['match']}] {h['right']:<{width}}  ({h['key']}) #{h['segment_id']}{coded}")
    click.echo(f"{len(hits)} hit(s) for '{term}'", err=True)


@click.command()
@pass_env
def sources(env: Env):
    """List ingested sources."""
    rows = [[s["id"], s["name"], s["group_label"], s["format"], s["n_segments"], s["n_words"], s["sha256"][:12]]
            for s in env.open().sources()]
    echo_table(["id", "name", "group", "format", "segments", "words", "sha256"], rows)


@click.command()
@click.option("--group", help="Only this focus group.")
@pass_env
def participants(env: Env, group):
    """List participants with their attributes (identifying attributes are marked *)."""
    store = env.open()
    people = store.participants(group)
    attrs = store.attribute_names()
    ident = set(store.identifying_attributes())
    echo_table(["key"] + [a + ("*" if a in ident else "") for a in attrs],
               [[p["key"]] + [p.get(a, "") for a in attrs] for p in people], max_width=30)


@click.command()
@click.option("--by", default="source", show_default=True, metavar="[theme,]UNIT",
              help="Count per source, group, participant or participant attribute (e.g. gender, age_band; "
                   "never an identifying one); put 'theme,' first for themes as rows (--by theme,gender).")
@whose_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of an aligned table.")
@json_option
@pass_env
def counts(env: Env, by, coders, as_csv, as_json):
    """Coded segments per code (or theme) and per source, group, participant or attribute value."""
    from ..coding.coders import resolve_coders
    from ..familiarise.overview import code_count_document, code_count_table

    if as_csv and as_json:
        raise click.UsageError("choose one of --csv and --json.")
    store = env.open()
    who = resolve_coders(store, coders)
    if as_json:
        echo_json("counts", code_count_document(store, by=by, coders=who.coders))
        return
    header, rows = code_count_table(store, by=by, coders=who.coders)
    click.echo(who.describe(), err=True)
    if as_csv:
        import sys

        from ..files.csvout import write_csv

        write_csv(sys.stdout, header, rows)
    else:
        echo_table(header, rows, max_width=30)
