//! `report.html`: one self-contained page for auditors. It has a summary per framework, and the
//! vulnerability counts by severity and the SBOM by component type as inline SVG bar charts.
//! Then come the signature and provenance status, the image's labels and annotations, and each
//! framework's controls with links to the evidence files beside the page.
//!
//! The page loads nothing: the CSS and SVG are inline, there is no script, and a Content
//! Security Policy of `default-src 'none'` stops a browser from fetching anything even if a
//! value slipped through. Every string that comes from the image, its signatures, the manifests
//! or the advisories goes through [`escape`].

use std::fmt::Write as _;

use clearbox_catalog::escape_unprintable;
use clearbox_policy::compliance::{CheckRun, CheckStatus, ControlStatus};

use super::markdown::STATUS_RULES;
use super::{FrameworkReport, Matrix, StatusCounts, VulnerabilityOverview, is_package_file};

/// Colours for the statuses and severities; each is also named in text next to the bars.
const SATISFIED: &str = "#1a7f37";
const NOT_SATISFIED: &str = "#cf222e";
const NOT_EVIDENCED: &str = "#8c959f";

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0;
  color: #1f2328; background: #fff; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.note, p.source { color: #57606a; font-size: 13px; margin: 4px 0 12px; }
dl.identity { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; font-size: 14px; }
dl.identity dt { color: #57606a; }
dl.identity dd { margin: 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px;
  background: #f6f8fa; padding: 1px 4px; border-radius: 4px; overflow-wrap: break-word; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d7de; padding: 6px 8px; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
table.controls, table.checks { table-layout: fixed; }
td ul { margin: 0; padding: 0; list-style: none; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; color: #fff; white-space: nowrap; }
.satisfied, .pass { background: #1a7f37; }
.not-satisfied, .fail { background: #cf222e; }
.not-evidenced, .not-run, .not-applicable { background: #8c959f; }
.panels { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.panel { border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; }
.panel h3 { margin-top: 0; }
.scope { color: #57606a; font-size: 12px; margin-top: 4px; }
a { color: #0969da; }
";

/// Escapes text for HTML element content and quoted attribute values. Control, line-breaking
/// and direction-changing characters become visible `\u{..}` escapes first, so that a value
/// cannot reorder or hide the text around it.
pub(super) fn escape(text: &str) -> String {
    let visible = escape_unprintable(text);
    let mut out = String::with_capacity(visible.len());
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(matrix: &Matrix) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Compliance report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&matrix.image.reference)
    );
    header(&mut out, matrix);
    summary(&mut out, matrix);
    let _ = writeln!(out, "<div class=\"panels\">");
    vulnerabilities(&mut out, &matrix.overview.vulnerabilities);
    inventory(&mut out, matrix);
    let _ = writeln!(out, "</div>");
    signatures(&mut out, matrix);
    labels(&mut out, matrix);
    for framework in &matrix.frameworks {
        framework_table(&mut out, framework);
    }
    checks_table(&mut out, &matrix.checks);
    let _ = writeln!(out, "</main>\n</body>\n</html>");
    out
}

fn header(out: &mut String, matrix: &Matrix) {
    let image = &matrix.image;
    let _ = writeln!(out, "<h1>Compliance report</h1>");
    let _ = writeln!(out, "<dl class=\"identity\">");
    let _ = writeln!(
        out,
        "<dt>Image</dt><dd><code>{}</code></dd>",
        escape(&image.reference)
    );
    let digest = image.manifest_digest.as_deref().map_or_else(
        || "none (the source stores no manifest)".to_owned(),
        |d| format!("<code>{}</code>", escape(d)),
    );
    let _ = writeln!(out, "<dt>Manifest digest</dt><dd>{digest}</dd>");
    if let Some(created) = &image.created {
        let _ = writeln!(out, "<dt>Created</dt><dd>{}</dd>", escape(created));
    }
    let _ = writeln!(
        out,
        "<dt>Generated by</dt><dd>{}</dd>\n</dl>",
        escape(&matrix.generator)
    );
    let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(STATUS_RULES));
}

/// Renders a badge for a control status.
fn control_badge(status: ControlStatus) -> String {
    let class = match status {
        ControlStatus::Satisfied => "satisfied",
        ControlStatus::NotSatisfied => "not-satisfied",
        ControlStatus::NotEvidenced => "not-evidenced",
    };
    format!("<span class=\"badge {class}\">{}</span>", status.label())
}

/// Renders a badge for a check status.
fn check_badge(status: CheckStatus) -> String {
    let class = match status {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::NotApplicable => "not-applicable",
        CheckStatus::NotRun => "not-run",
    };
    format!("<span class=\"badge {class}\">{}</span>", status.label())
}

fn summary(out: &mut String, matrix: &Matrix) {
    let _ = writeln!(out, "<h2 id=\"summary\">Summary by framework</h2>");
    let _ = writeln!(
        out,
        "<table>\n<tr><th>Framework</th><th>Source</th><th>Satisfied</th><th>Not satisfied</th>\
         <th>Not evidenced</th><th>Controls</th></tr>"
    );
    for framework in &matrix.frameworks {
        let s = framework.summary;
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            framework.id.id(),
            escape(&framework.name),
            escape(&framework.source),
            s.satisfied,
            s.not_satisfied,
            s.not_evidenced,
            status_bar(s, &framework.name)
        );
    }
    let _ = writeln!(out, "</table>");
}

/// Draws a stacked bar of a framework's statuses.
fn status_bar(counts: StatusCounts, name: &str) -> String {
    const WIDTH: f64 = 240.0;
    let total = (counts.satisfied + counts.not_satisfied + counts.not_evidenced).max(1);
    let mut svg = format!(
        "<svg width=\"{WIDTH}\" height=\"14\" viewBox=\"0 0 {WIDTH} 14\" role=\"img\">\
         <title>{}: {} satisfied, {} not satisfied, {} not evidenced</title>",
        escape(name),
        counts.satisfied,
        counts.not_satisfied,
        counts.not_evidenced
    );
    let mut x = 0.0;
    for (count, colour) in [
        (counts.satisfied, SATISFIED),
        (counts.not_satisfied, NOT_SATISFIED),
        (counts.not_evidenced, NOT_EVIDENCED),
    ] {
        #[allow(clippy::cast_precision_loss, reason = "control counts are small")]
        let width = WIDTH * count as f64 / total as f64;
        if width > 0.0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"0\" width=\"{width:.1}\" height=\"14\" fill=\"{colour}\"/>"
            );
        }
        x += width;
    }
    svg.push_str("</svg>");
    svg
}

/// Draws a vertical bar chart with one bar per `(label, count, colour)` and the count above it.
fn bar_chart(title: &str, bars: &[(&str, u64, &str)]) -> String {
    const HEIGHT: u64 = 160;
    const BAR: u64 = 56;
    const GAP: u64 = 24;
    let max = bars.iter().map(|(_, n, _)| *n).max().unwrap_or(0).max(1);
    let width = GAP + (BAR + GAP) * bars.len() as u64;
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\" role=\"img\">\
         <title>{}</title>",
        HEIGHT + 48,
        HEIGHT + 48,
        escape(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\" stroke=\"#d0d7de\"/>",
        y = HEIGHT + 20
    );
    for (i, (label, count, colour)) in bars.iter().enumerate() {
        let x = GAP + (BAR + GAP) * i as u64;
        let height = HEIGHT * count / max;
        let top = HEIGHT + 20 - height;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{top}\" width=\"{BAR}\" height=\"{height}\" fill=\"{colour}\"/>\
             <text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"13\" \
             font-weight=\"600\">{count}</text>\
             <text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
            escape(label),
            cx = x + BAR / 2,
            ty = top.saturating_sub(4).max(12),
            ly = HEIGHT + 38
        );
    }
    svg.push_str("</svg>");
    svg
}

fn vulnerabilities(out: &mut String, counts: &VulnerabilityOverview) {
    let _ = writeln!(
        out,
        "<section class=\"panel\" id=\"vulnerabilities\"><h3>Vulnerabilities by severity</h3>"
    );
    if counts.scanned {
        let bars = [
            ("critical", counts.critical, "#8b0000"),
            ("high", counts.high, "#cf222e"),
            ("medium", counts.medium, "#bf8700"),
            ("low", counts.low, "#0969da"),
            ("unknown", counts.unknown, "#8c959f"),
        ];
        let _ = writeln!(out, "{}", bar_chart("Vulnerabilities by severity", &bars));
        let _ = writeln!(
            out,
            "<p class=\"note\">{} critical, {} high, {} medium, {} low, {} of unknown severity. \
             Details: <a href=\"vulnerabilities.json\">vulnerabilities.json</a>.</p>",
            counts.critical, counts.high, counts.medium, counts.low, counts.unknown
        );
    } else {
        let _ = writeln!(
            out,
            "<p><strong>Not scanned:</strong> {}</p>",
            escape(counts.reason.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(out, "</section>");
}

fn inventory(out: &mut String, matrix: &Matrix) {
    let overview = &matrix.overview;
    let _ = writeln!(
        out,
        "<section class=\"panel\" id=\"sbom\"><h3>SBOM by component type</h3>"
    );
    let bars: Vec<(&str, u64, &str)> = overview
        .packages_by_type
        .iter()
        .map(|(kind, n)| (kind.as_str(), *n as u64, "#0969da"))
        .collect();
    if bars.is_empty() {
        let _ = writeln!(out, "<p>The SBOM lists no package.</p>");
    } else {
        let _ = writeln!(out, "{}", bar_chart("SBOM components by type", &bars));
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">{} packages in <a href=\"sbom.spdx.json\">sbom.spdx.json</a> and \
         <a href=\"sbom.cdx.json\">sbom.cdx.json</a>.</p>\n</section>",
        overview.packages
    );
}

fn signatures(out: &mut String, matrix: &Matrix) {
    let _ = writeln!(
        out,
        "<h2 id=\"signatures\">Signature and provenance</h2>\n<table>\n\
         <tr><th>Check</th><th>Result</th><th>Detail</th><th>Evidence</th></tr>"
    );
    for (name, run) in [
        ("Signature", &matrix.overview.signature),
        ("SLSA provenance", &matrix.overview.provenance),
    ] {
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            check_badge(run.status),
            escape(&run.detail),
            evidence_links(&run.evidence)
        );
    }
    let _ = writeln!(out, "</table>");
}

fn labels(out: &mut String, matrix: &Matrix) {
    let image = &matrix.image;
    let _ = writeln!(
        out,
        "<h2 id=\"image\">Image labels and annotations</h2>\n\
         <p class=\"note\">As the image states them; nothing here is verified.</p>"
    );
    if image.labels.is_empty() && image.annotations.is_empty() {
        let _ = writeln!(out, "<p>The image has no labels or annotations.</p>");
        return;
    }
    let _ = writeln!(
        out,
        "<table>\n<tr><th>Where</th><th>Key</th><th>Value</th></tr>"
    );
    let rows = image
        .labels
        .iter()
        .map(|kv| ("label", kv))
        .chain(image.annotations.iter().map(|kv| ("annotation", kv)));
    for (kind, (key, value)) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{kind}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(key),
            escape(value)
        );
    }
    let _ = writeln!(out, "</table>");
}

/// Column widths of the control tables, in percent: control, cites, requirement, status, why,
/// checks, evidence.
const CONTROL_COLUMNS: [u8; 7] = [9, 8, 24, 11, 24, 11, 13];

/// Column widths of the checks table, in percent: check, requirement, result, detail, evidence.
const CHECK_COLUMNS: [u8; 5] = [16, 22, 9, 39, 14];

/// Builds a `<colgroup>` with the given widths.
fn columns(widths: &[u8]) -> String {
    let mut cols = String::new();
    for width in widths {
        let _ = write!(cols, "<col style=\"width: {width}%\">");
    }
    format!("<colgroup>{cols}</colgroup>")
}

/// Renders items as a list, one per line, or a dash for none.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "–".to_owned();
    }
    let mut entries = String::new();
    for item in items {
        let _ = write!(entries, "<li>{item}</li>");
    }
    format!("<ul>{entries}</ul>")
}

fn framework_table(out: &mut String, framework: &FrameworkReport) {
    let _ = writeln!(
        out,
        "<h2 id=\"{}\">{}</h2>\n<p class=\"source\">{}</p>",
        framework.id.id(),
        escape(&framework.name),
        escape(&framework.source)
    );
    let _ = writeln!(
        out,
        "<table class=\"controls\">{}\n<tr><th>Control</th><th>Cites</th><th>Requirement</th>\
         <th>Status</th><th>Why</th><th>Checks</th><th>Evidence</th></tr>",
        columns(&CONTROL_COLUMNS)
    );
    for control in &framework.controls {
        let scope = control.scope.as_deref().map_or_else(String::new, |s| {
            format!("<div class=\"scope\">Scope: {}</div>", escape(s))
        });
        let checks: Vec<String> = control
            .checks
            .iter()
            .map(|c| format!("<code>{}</code>", escape(c)))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}{scope}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            escape(&control.id),
            escape(&control.cites),
            escape(&control.title),
            control_badge(control.status),
            escape(&control.reason),
            list(&checks),
            evidence_links(&control.evidence)
        );
    }
    let _ = writeln!(out, "</table>");
}

fn checks_table(out: &mut String, checks: &[CheckRun]) {
    let _ = writeln!(
        out,
        "<h2 id=\"checks\">Checks</h2>\n<table class=\"checks\">{}\n<tr><th>Check</th>\
         <th>Requirement</th><th>Result</th><th>Detail</th><th>Evidence</th></tr>",
        columns(&CHECK_COLUMNS)
    );
    for check in checks {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&check.id),
            escape(&check.title),
            check_badge(check.status),
            escape(&check.detail),
            evidence_links(&check.evidence)
        );
    }
    let _ = writeln!(out, "</table>");
}

/// Renders links to the package's files, one per line. Other names (manifest files given with
/// `--k8s`) are shown as text, because their paths may be absolute or outside the package.
fn evidence_links(names: &[String]) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|name| {
            if is_package_file(name) {
                format!("<a href=\"{0}\">{0}</a>", escape(name))
            } else {
                format!("<code>{}</code>", escape(name))
            }
        })
        .collect();
    list(&items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn line_breaks_become_visible() {
        assert_eq!(escape("a\nb"), "a\\u{a}b");
    }
}
