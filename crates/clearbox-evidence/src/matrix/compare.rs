//! `clearbox report --compare A B`: the status of every control for two images side by side,
//! such as a standard image and its hardened rebuild.

use std::fmt::Write as _;

use clearbox_policy::code;
use clearbox_policy::compliance::{ControlStatus, FrameworkId};
use serde::Serialize;

use super::html::escape;
use super::markdown::cell;
use super::{ImageIdentity, Matrix, StatusCounts};

/// Two matrices over the same frameworks, control by control.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The first image, such as the standard build.
    pub a: ImageIdentity,
    /// The second image, such as the hardened build.
    pub b: ImageIdentity,
    /// One entry per framework, in the order of the matrices.
    pub frameworks: Vec<FrameworkComparison>,
}

/// One framework's controls for both images.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkComparison {
    /// The framework id.
    pub id: FrameworkId,
    /// Display name.
    pub name: String,
    /// Control counts for image A.
    pub summary_a: StatusCounts,
    /// Control counts for image B.
    pub summary_b: StatusCounts,
    /// Every control.
    pub controls: Vec<ControlComparison>,
}

/// One control's status for both images.
#[derive(Debug, Clone, Serialize)]
pub struct ControlComparison {
    /// Control id.
    pub id: String,
    /// The provision it cites.
    pub cites: String,
    /// The requirement.
    pub title: String,
    /// Status for image A.
    pub a: ControlStatus,
    /// Status for image B.
    pub b: ControlStatus,
    /// The reason for image A's status.
    pub reason_a: String,
    /// The reason for image B's status.
    pub reason_b: String,
}

impl Comparison {
    /// Pairs the controls of two matrices built for the same frameworks.
    #[must_use]
    pub fn new(a: &Matrix, b: &Matrix) -> Comparison {
        let frameworks = a
            .frameworks
            .iter()
            .zip(&b.frameworks)
            .map(|(fa, fb)| FrameworkComparison {
                id: fa.id,
                name: fa.name.clone(),
                summary_a: fa.summary,
                summary_b: fb.summary,
                controls: fa
                    .controls
                    .iter()
                    .zip(&fb.controls)
                    .map(|(ca, cb)| ControlComparison {
                        id: ca.id.clone(),
                        cites: ca.cites.clone(),
                        title: ca.title.clone(),
                        a: ca.status,
                        b: cb.status,
                        reason_a: ca.reason.clone(),
                        reason_b: cb.reason.clone(),
                    })
                    .collect(),
            })
            .collect();
        Comparison {
            a: a.image.clone(),
            b: b.image.clone(),
            frameworks,
        }
    }

    /// Renders the comparison as pretty-printed JSON with a trailing newline.
    ///
    /// # Panics
    ///
    /// Only if `serde_json` failed on plain data, which it does not: every map key is a string.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("the comparison always serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Renders one Markdown table per framework, with columns control, cites, requirement, A
    /// and B.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Compliance comparison\n");
        let _ = writeln!(out, "A: {}  ", code(&self.a.reference));
        let _ = writeln!(out, "B: {}\n", code(&self.b.reference));
        for framework in &self.frameworks {
            let (sa, sb) = (framework.summary_a, framework.summary_b);
            let _ = writeln!(out, "## {}\n", framework.name);
            let _ = writeln!(
                out,
                "Satisfied: A {}, B {}. Not satisfied: A {}, B {}. Not evidenced: A {}, B {}.\n",
                sa.satisfied,
                sb.satisfied,
                sa.not_satisfied,
                sb.not_satisfied,
                sa.not_evidenced,
                sb.not_evidenced
            );
            let _ = writeln!(
                out,
                "| control | cites | requirement | A | B |\n|---|---|---|---|---|"
            );
            for control in &framework.controls {
                let mark = |status: ControlStatus| {
                    if control.a == control.b {
                        status.label().to_owned()
                    } else {
                        format!("**{}**", status.label())
                    }
                };
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    control.id,
                    cell(&control.cites),
                    cell(&control.title),
                    mark(control.a),
                    mark(control.b)
                );
            }
            out.push('\n');
        }
        out
    }

    /// Renders a self-contained HTML page with one table per framework.
    #[must_use]
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <title>Compliance comparison</title>\n<style>\
             body {{ font-family: system-ui, sans-serif; margin: 24px 32px; color: #1f2328; }}\
             table {{ border-collapse: collapse; width: 100%; font-size: 13px; margin-bottom: 24px; }}\
             th, td {{ border: 1px solid #d0d7de; padding: 6px 8px; text-align: left; }}\
             th {{ background: #f6f8fa; }} td.status {{ white-space: nowrap; }}\
             td.changed {{ font-weight: 700; }}\
             .satisfied {{ color: #1a7f37; }} .not-satisfied {{ color: #cf222e; }}\
             .not-evidenced {{ color: #57606a; }}</style>\n</head>\n<body>\n\
             <h1>Compliance comparison</h1>\n<p>A: <code>{}</code><br>B: <code>{}</code></p>\n",
            escape(&self.a.reference),
            escape(&self.b.reference)
        );
        for framework in &self.frameworks {
            let (sa, sb) = (framework.summary_a, framework.summary_b);
            let _ = writeln!(
                out,
                "<h2>{}</h2>\n<p>Satisfied: A {}, B {}. Not satisfied: A {}, B {}. Not evidenced: \
                 A {}, B {}.</p>\n<table>\n<tr><th>Control</th><th>Cites</th><th>Requirement</th>\
                 <th>A</th><th>B</th></tr>",
                escape(&framework.name),
                sa.satisfied,
                sb.satisfied,
                sa.not_satisfied,
                sb.not_satisfied,
                sa.not_evidenced,
                sb.not_evidenced
            );
            for control in &framework.controls {
                let changed = if control.a == control.b {
                    ""
                } else {
                    " changed"
                };
                let class = |status: ControlStatus| status.label().replace(' ', "-");
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td>\
                     <td class=\"status {}{changed}\">{}</td><td class=\"status {}{changed}\">{}</td></tr>",
                    escape(&control.id),
                    escape(&control.cites),
                    escape(&control.title),
                    class(control.a),
                    control.a.label(),
                    class(control.b),
                    control.b.label()
                );
            }
            let _ = writeln!(out, "</table>");
        }
        out.push_str("</body>\n</html>\n");
        out
    }
}
