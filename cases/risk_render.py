"""The risk report as a printable HTML page and as a PDF (reportlab), in the report's language.

Chinese text in the PDF uses reportlab's built-in CID font STSong-Light, which needs no font file.
Everything taken from the case is escaped (HTML) or passed as escaped paragraph markup (PDF).
"""

from __future__ import annotations

import html
import io
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cases.risk_advice import text
from cases.risk_report import generated_at
from cases.texts import say

CJK_FONT: Final = "STSong-Light"
_CSS: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Microsoft YaHei",
       sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem;
     border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
table.meta { border-collapse: collapse; margin: 1rem 0; } table.meta th { text-align: left; padding-right: 1rem;
     color: #57606a; font-weight: normal; } .priority-high { color: #b42318; font-weight: 600; }
.priority-medium { color: #9a6700; } .priority-low { color: #57606a; } ul.checklist { list-style: none;
     padding-left: 0; } ul.checklist li::before { content: "\\2610  "; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
"""


def render_html(report: dict[str, Any]) -> str:
    """A standalone, printable HTML page."""
    lg = report["language"]
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-Hans" if lg == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(report['title'])} - {e(report['case_id'])}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(report['title'])}</h1>",
        f"<p>{e(report['summary'])}</p>",
        '<table class="meta">',
    ]
    for label, value in _meta_rows(report):
        parts.append(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>")
    parts.append("</table>")
    parts.append(f"<h2>{e(text(lg, 'h.findings'))}</h2><ul>")
    parts += [f"<li>{e(f['text'])}</li>" for f in report["findings"]] or ["<li>-</li>"]
    parts.append(f"</ul><h2>{e(text(lg, 'h.advice'))}</h2><ol>")
    for advice in report["advice"]:
        priority = advice["priority"]
        parts.append(
            f'<li><span class="priority-{e(priority)}">[{e(text(lg, f"priority.{priority}"))}]</span> '
            f"{e(advice['text'])}</li>"
        )
    parts.append("</ol>")
    if report["checklist"]:
        parts.append(f'<h2>{e(text(lg, "h.checklist"))}</h2><ul class="checklist">')
        parts += [f"<li>{e(item['text'])}</li>" for item in report["checklist"]]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_pdf(report: dict[str, Any]) -> bytes:
    """The report as an A4 PDF."""
    lg = report["language"]
    font = _font(lg)
    styles = getSampleStyleSheet()
    body = ParagraphStyle(
        "body",
        parent=styles["BodyText"],
        fontName=font,
        fontSize=10,
        leading=14,
        wordWrap="CJK" if lg == "zh" else None,
    )
    title = ParagraphStyle(
        "title", parent=styles["Title"], fontName=font if lg == "zh" else "Helvetica-Bold", fontSize=18, leading=22
    )
    heading = ParagraphStyle(
        "heading",
        parent=styles["Heading2"],
        fontName=font if lg == "zh" else "Helvetica-Bold",
        fontSize=13,
        leading=17,
        spaceBefore=10,
    )
    e = html.escape
    story: list[Any] = [Paragraph(e(report["title"]), title), Paragraph(e(report["summary"]), body), Spacer(1, 4 * mm)]
    meta = Table(
        [[Paragraph(e(k), body), Paragraph(e(v), body)] for k, v in _meta_rows(report)], colWidths=[40 * mm, 120 * mm]
    )
    meta.setStyle(
        TableStyle([("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#57606a")), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story += [meta, Paragraph(e(text(lg, "h.findings")), heading)]
    findings = [f["text"] for f in report["findings"]] or ["-"]
    story.append(_bullets(findings, body))
    story.append(Paragraph(e(text(lg, "h.advice")), heading))
    story.append(
        _bullets(
            [f"[{text(lg, 'priority.' + a['priority'])}] {a['text']}" for a in report["advice"]] or ["-"],
            body,
            numbered=True,
        )
    )
    if report["checklist"]:
        story.append(Paragraph(e(text(lg, "h.checklist")), heading))
        box = "\u25a1" if lg == "zh" else "[  ]"
        story += [Paragraph(f"{box} {e(item['text'])}", body) for item in report["checklist"]]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{report['title']} {report['case_id']}",
        author="Aftercare",
        subject=report["summary"],
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    doc.build(story)
    return buffer.getvalue()


def _font(lg: str) -> str:
    if lg != "zh":
        return "Helvetica"
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def _bullets(lines: list[str], style: ParagraphStyle, *, numbered: bool = False) -> Any:
    items = [ListItem(Paragraph(html.escape(line), style)) for line in lines]
    return ListFlowable(
        items,
        bulletType="1" if numbered else "bullet",
        leftIndent=6 * mm,
        bulletFontName=style.fontName,
        bulletFontSize=9,
    )


def _meta_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    lg = report["language"]
    loss = report["loss"]
    return [
        (text(lg, "h.case"), report["case_id"]),
        (text(lg, "h.claim"), report["claim_id"]),
        (text(lg, "h.cause"), f"{loss.get('cause_name', '')} ({loss.get('cause') or '-'})"),
        (text(lg, "h.severity"), say(lg, f"severity.{loss.get('severity') or 'minor'}")),
        (text(lg, "h.generated"), generated_at(report)),
    ]
