//! Results and comments as CSV, for spreadsheets and the next issue's write-up.

use super::CommentView;
use crate::domain::ResultsView;
use std::fmt::Write;

/// One CSV field: quoted when needed, and a leading `=`, `+`, `-`, `@` (or tab/CR) is
/// prefixed with `'` so a reader's comment cannot run as a spreadsheet formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn row(out: &mut String, fields: &[&str]) {
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    let _ = write!(out, "{}\r\n", line.join(","));
}

pub fn results_csv(results: &ResultsView) -> String {
    let mut out = String::new();
    row(&mut out, &["option_id", "label", "votes", "percent"]);
    for o in &results.options {
        row(&mut out, &[o.id.as_str(), &o.label, &o.votes.to_string(), &format!("{:.1}", o.percent)]);
    }
    row(&mut out, &["total", "", &results.total_votes.to_string(), ""]);
    out
}

pub fn comments_csv(comments: &[CommentView]) -> String {
    let mut out = String::new();
    row(&mut out, &["id", "created_at", "choices", "comment", "hidden"]);
    for c in comments {
        let at = c.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let hidden = if c.hidden { "yes" } else { "no" };
        row(&mut out, &[&c.id.to_string(), &at, &c.choices.join("; "), &c.body, hidden]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::poll::tests::{at, poll};
    use crate::domain::{PollKind, ResultsVisibility, Tally};

    #[test]
    fn results_have_a_row_per_option_and_a_total() {
        let p = poll(PollKind::Single, ResultsVisibility::Always);
        let results = Tally { total_votes: 3, counts: vec![2, 1, 0] }.view(&p, at(8, 0));
        assert_eq!(
            results_csv(&results),
            "option_id,label,votes,percent\r\nyes,YES,2,66.7\r\nno,NO,1,33.3\r\nnot-sure,NOT-SURE,0,0.0\r\ntotal,,3,\r\n"
        );
    }

    #[test]
    fn comments_are_quoted_and_defused() {
        let comment = |id, body: &str| CommentView {
            id,
            body: body.into(),
            hidden: id == 2,
            at: at(8, 0),
            choices: vec!["Yes".into(), "No".into()],
        };
        let csv = comments_csv(&[comment(1, "Said \"no\", then\nyes"), comment(2, "=HYPERLINK(\"x\")")]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "id,created_at,choices,comment,hidden");
        assert_eq!(lines[1], "1,2023-11-08T00:00:00Z,Yes; No,\"Said \"\"no\"\", then\nyes\",no");
        assert_eq!(lines[2], "2,2023-11-08T00:00:00Z,Yes; No,\"'=HYPERLINK(\"\"x\"\")\",yes");
    }
}
