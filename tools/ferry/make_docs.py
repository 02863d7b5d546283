#!/usr/bin/env python3
"""Writes ferry's man page and bash completion from the tool itself.

    make_docs.py FERRY README.md OUT_DIR    -> OUT_DIR/ferry.1, OUT_DIR/ferry.bash

Every verb, argument and option comes from the built tool's --help (CLI11's
layout), so neither file can fall behind the code; the exit codes come from
the README's "Exit codes" paragraph, written once there. Run by the build
(tools/CMakeLists.txt) and checked by tests/packaging/docs_test.sh.
"""
import re
import subprocess
import sys


def helptext(ferry, *args):
    out = subprocess.run([ferry, *args, "--help"], capture_output=True, text=True, check=True).stdout
    return out.replace(ferry, "ferry")


def parse(text):
    """CLI11's help: a description, a usage line, then blocks of entries.

    An entry starts two spaces in: its term, then (after two or more spaces, or
    on the lines below, further in) its description."""
    lines = text.splitlines()
    description = lines[0].strip()
    usage = next(l for l in lines if l.startswith("Usage: "))[len("Usage: "):]
    blocks, block = {}, None
    for line in lines:
        if re.match(r"^[A-Z][a-z]+:$", line):
            block = blocks.setdefault(line[:-1], [])
        elif block is not None and re.match(r"^  \S", line):
            term, _, desc = line.strip().partition("  ")
            block.append([term.strip(), desc.strip()])
        elif block is not None and line.startswith("    ") and block:
            block[-1][1] = (block[-1][1] + " " + line.strip()).strip()
    return description, usage, blocks


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = re.sub(r"`([^`]*)`", r"\\fB\1\\fR", text)
    text = re.sub(r"\*\*([^*]*)\*\*", r"\\fB\1\\fR", text)
    return "\\&" + text if text and text[0] in ".'" else text


def option_name(term):
    """'-o,--output TEXT REQUIRED' -> ('-o, --output', 'TEXT'); checks like Excludes: go."""
    term = re.sub(r"\s+(Excludes|Needs):.*", "", term)
    names, _, kind = term.partition(" ")
    kind = re.sub(r"\s*REQUIRED\s*", "", kind)
    return names.replace(",", ", "), kind.strip()


def verbs_of(ferry):
    _, _, blocks = parse(helptext(ferry))
    return [term for term, _ in blocks["Subcommands"]]


def man_page(ferry, readme, version):
    _, _, top = parse(helptext(ferry))
    out = [
        '.TH FERRY 1 "" "%s" "User Commands"' % roff(version),
        ".SH NAME",
        "ferry \\- offline sync for SQLite databases through bundle files",
        ".SH SYNOPSIS",
        ".B ferry",
        ".I VERB",
        "[\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]",
        ".br",
        ".B ferry",
        "[\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR]",
        ".SH DESCRIPTION",
        "Each device keeps its own SQLite database. Triggers capture every change to the tracked tables"
        " into an append-only, hash-chained log; \\fBferry export\\fR writes a signed bundle file holding what a"
        " peer lacks, carried on a USB stick or sent by email; \\fBferry import\\fR verifies it, applies it in"
        " causal order and records conflicts. Devices that saw the same operations hold the same data.",
        ".PP",
        "Every verb takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR (or \\fBferry help\\fR \\fIVERB\\fR). Messages go to standard error and name the file and"
        " the problem; \\fB\\-\\-json\\fR prints results as JSON with stable keys.",
        ".SH OPTIONS",
        "These go before or after the verb.",
    ]
    for term, desc in top.get("Options", []):
        names, kind = option_name(term)
        out += [".TP", "\\fB%s\\fR" % roff(names), roff(desc)]
    out += [".SH VERBS"]
    for verb in [term for term, _ in top["Subcommands"]]:
        summary, usage, blocks = parse(helptext(ferry, verb))
        out += [".SS \"%s\"" % roff(usage.replace("[OPTIONS] ", "")), roff(summary)]
        for term, desc in blocks.get("Positionals", []):
            name = term.split()[0]
            out += [".TP", "\\fI%s\\fR" % roff(name), roff(desc)]
        for term, desc in blocks.get("Options", []):
            names, kind = option_name(term)
            if names == "-h, --help":
                continue
            choices = re.search(r":\{([^}]*)\}", kind)
            arg = roff(choices.group(1).replace(",", "|")) if choices else roff(re.sub(r":.*", "", kind))
            out += [".TP", "\\fB%s\\fR%s" % (roff(names), " \\fI%s\\fR" % arg if arg else ""), roff(desc)]
    codes = re.search(r"\*\*Exit codes:\*\*(.*?)\n\n", readme, re.S)
    if not codes:
        sys.exit("make_docs: the README has no **Exit codes:** paragraph")
    out += [".SH EXIT STATUS"]
    for item in " ".join(codes.group(1).split()).split(" · "):
        code, _, meaning = item.strip().partition(" ")
        out += [".TP", "\\fB%s\\fR" % code, roff(meaning)]
    out += [
        ".SH FILES",
        ".TP",
        "\\fIDB\\fR\\fB.key\\fR",
        "The device's private signing and encryption keys, beside the database (mode 0600).",
        ".SH SEE ALSO",
        "\\fBsqlite3\\fR(1).",
        "The README and the bundle format specification, in /usr/share/doc/ferry.",
        "",
    ]
    return "\n".join(out)


def completion(ferry):
    verbs = verbs_of(ferry)
    _, _, top = parse(helptext(ferry))
    common = [n.strip() for term, _ in top.get("Options", []) for n in option_name(term)[0].split(",")
              if n.strip() not in ("-h", "--help", "--version")]
    cases = []
    for verb in verbs:
        _, _, blocks = parse(helptext(ferry, verb))
        options = []
        for term, _ in blocks.get("Options", []):
            names, _ = option_name(term)
            options += [n.strip() for n in names.split(",")]
        cases.append("    %s) options='%s' ;;" % (verb, " ".join(options + common)))
    return "\n".join([
        "# bash completion for ferry, written by tools/ferry/make_docs.py from the tool's --help.",
        "_ferry() {",
        "  local cur=${COMP_WORDS[COMP_CWORD]} options=''",
        "  if ((COMP_CWORD == 1)); then",
        "    mapfile -t COMPREPLY < <(compgen -W '%s help --help --version' -- \"$cur\")" % " ".join(verbs),
        "    return",
        "  fi",
        "  case ${COMP_WORDS[1]} in",
        "    help) mapfile -t COMPREPLY < <(compgen -W '%s' -- \"$cur\"); return ;;" % " ".join(verbs),
        *cases,
        "  esac",
        "  if [[ $cur == -* ]]; then",
        "    mapfile -t COMPREPLY < <(compgen -W \"$options\" -- \"$cur\")",
        "  else",
        "    mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")",
        "  fi",
        "}",
        "complete -o filenames -F _ferry ferry",
        "",
    ])


def main():
    ferry, readme_path, out_dir = sys.argv[1:4]
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    version = subprocess.run([ferry, "--version"], capture_output=True, text=True, check=True).stdout.split("(")[0].strip()
    with open(out_dir + "/ferry.1", "w", encoding="utf-8") as f:
        f.write(man_page(ferry, readme, version))
    with open(out_dir + "/ferry.bash", "w", encoding="utf-8") as f:
        f.write(completion(ferry))


if __name__ == "__main__":
    main()
