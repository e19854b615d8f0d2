"""Building blocks of the self-contained HTML pages (``report.html``, ``compare --out x.html``).

One file, nothing fetched: the style sheet is inline and every figure is embedded as a ``data:image/png``
URI, so the page opens from a copied results directory, an e-mail or a CI artifact alike. No script.
All text is escaped; tables come from pandas' ``to_html`` (escaping on).
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; background: #fff; }
header { background: #22304a; color: #fff; padding: 14px 28px; }
header h1 { margin: 0; font-size: 22px; } header p { margin: 4px 0 0; color: #c9d3e6; }
nav { padding: 8px 28px; background: #eef2f8; border-bottom: 1px solid #d5dceb; position: sticky; top: 0; }
nav a { margin-right: 14px; color: #22304a; text-decoration: none; font-weight: 600; }
main { padding: 4px 28px 40px; max-width: 1500px; }
h2 { border-bottom: 2px solid #22304a; padding-bottom: 3px; margin-top: 30px; }
h3 { margin: 22px 0 6px; }
table.data { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
table.data th, table.data td { border: 1px solid #d5dceb; padding: 3px 8px; text-align: left; white-space: nowrap; }
table.data th { background: #eef2f8; } table.data tr:nth-child(even) td { background: #f8fafd; }
.scroll { overflow-x: auto; }
figure { margin: 10px 0 18px; } figure img { max-width: 100%; border: 1px solid #e1e6f0; }
figcaption { color: #4a5468; font-size: 12px; }
.note { color: #6b4d00; background: #fff6dc; border-left: 4px solid #e3b341; padding: 4px 10px; margin: 4px 0; }
.protocol { color: #4a5468; font-size: 12px; max-width: 1100px; }
details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f4f6fa; padding: 10px; overflow-x: auto; font-size: 12px; }
.bar { display: inline-block; height: 10px; background: #4c72b0; vertical-align: middle; margin-right: 6px; }
.bar.target { background: #dd8452; }
"""


def esc(text: object) -> str:
    """``text`` as HTML text (quotes escaped too)."""
    return html.escape(str(text), quote=True)


def anchor(text: str) -> str:
    """An element id made from ``text`` (letters, digits, ``-``)."""
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "section"


def table(df: pd.DataFrame) -> str:
    """``df`` as an HTML table (no index, cells escaped, missing values "–"), horizontally scrollable."""
    body = df.to_html(index=False, escape=True, na_rep="–", border=0, classes="data")
    return f'<div class="scroll">{body}</div>'


def figure(path: Path, caption: str) -> str:
    """The PNG at ``path`` embedded as a data URI, with its caption; a note when the file is missing."""
    if not path.is_file():
        return note(f"figure missing: {path.name}")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def section(title: str, body: str, level: int = 2) -> str:
    return f'<section id="{anchor(title)}"><h{level}>{esc(title)}</h{level}>{body}</section>'


def details(summary: str, body: str) -> str:
    return f"<details><summary>{esc(summary)}</summary>{body}</details>"


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


def page(title: str, subtitle: str, sections: list[tuple[str, str]]) -> str:
    """A whole page: header, a navigation bar linking each (title, html) section, the sections."""
    nav = "".join(f'<a href="#{anchor(t)}">{esc(t)}</a>' for t, _ in sections)
    body = "".join(section(t, h) for t, h in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
            f"<nav>{nav}</nav><main>{body}</main></body></html>\n")
