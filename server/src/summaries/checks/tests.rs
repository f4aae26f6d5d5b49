use super::*;

fn facts() -> Facts {
    let comments = vec![
        SourceComment { id: 1, body: "Power  is the\nbottleneck, not chips.".into(), choices: vec!["stalls".into()] },
        SourceComment {
            id: 2,
            body: "Café owners said the grid can't keep up.".into(),
            choices: vec!["stalls".into()],
        },
        SourceComment { id: 3, body: "Money is infinite for xAI.".into(), choices: vec!["faster".into()] },
        SourceComment { id: 4, body: "H100 prices keep falling.".into(), choices: vec!["faster".into()] },
    ];
    Facts::new(&comments, vec![("stalls".into(), 6), ("faster".into(), 2)], 8)
}

fn good() -> Draft {
    Draft {
        themes: vec![
            Theme {
                option: Some("stalls".into()),
                title: "Power runs out first".into(),
                members: vec![1, 2],
                comment_count: 2,
                share: 0.5,
                quotes: vec![Quote { comment_id: 1, text: "Power is the bottleneck".into() }],
                shared: None,
            },
            Theme {
                option: Some("faster".into()),
                title: "Money and cheaper H100s".into(),
                members: vec![3, 4],
                comment_count: 2,
                share: 0.5,
                quotes: vec![Quote { comment_id: 3, text: "Money is infinite for xAI.".into() }],
                shared: None,
            },
        ],
        overview: "Of 8 voters, 75% expect growth to stall; 2 of 4 comments blame power.".into(),
        unassigned: vec![],
    }
}

#[test]
fn every_comment_is_in_exactly_one_place() {
    // Comment 4 moved to "fits no theme": still accounted for.
    let mut draft = good();
    draft.themes[1].members = vec![3];
    draft.themes[1].comment_count = 1;
    draft.themes[1].share = 0.25;
    draft.overview = "Of 8 voters, 75% expect growth to stall.".into();
    draft.unassigned = vec![4];
    assert!(check(&draft, &facts()).passed(), "{:?}", check(&draft, &facts()).problems);
    // Dropped from both: missing.
    draft.unassigned = vec![];
    let report = check(&draft, &facts());
    assert!(!report.citations_valid);
    assert!(report.problems.iter().any(|p| p.contains("comment 4 first")), "{:?}", report.problems);
    // In a theme and in "fits no theme": twice.
    draft.unassigned = vec![3, 4];
    assert!(check(&draft, &facts()).problems.iter().any(|p| p.contains("comment 3 is both")));
    // A comment that is not the poll's.
    draft.unassigned = vec![4, 99];
    assert!(check(&draft, &facts()).problems.iter().any(|p| p.contains("comment 99")));
}

#[test]
fn a_grounded_summary_passes() {
    let report = check(&good(), &facts());
    assert!(report.passed(), "{:?}", report.problems);
}

#[test]
fn whitespace_and_unicode_forms_are_the_only_liberties() {
    let mut draft = good();
    // Decomposed "é" (e + combining accent) and a line break: the same text.
    draft.themes[0].quotes = vec![Quote { comment_id: 2, text: "Cafe\u{301} owners said\n the grid".into() }];
    assert!(check(&draft, &facts()).passed());
    // A changed word, or changed case, is not a quote.
    draft.themes[0].quotes = vec![Quote { comment_id: 2, text: "owners said the grid cannot keep up".into() }];
    assert!(!check(&draft, &facts()).quotes_verbatim);
    draft.themes[0].quotes = vec![Quote { comment_id: 1, text: "power is the bottleneck".into() }];
    assert!(!check(&draft, &facts()).quotes_verbatim);
}

#[test]
fn invented_and_stitched_quotes_fail() {
    let mut draft = good();
    draft.themes[0].quotes = vec![Quote { comment_id: 1, text: "Nuclear will save us".into() }];
    let report = check(&draft, &facts());
    assert!(!report.quotes_verbatim && !report.passed());
    assert!(report.problems[0].contains("word for word"), "{:?}", report.problems);
    // Two real pieces of two comments glued together.
    draft.themes[0].quotes =
        vec![Quote { comment_id: 1, text: "Power is the bottleneck, the grid can't keep up.".into() }];
    assert!(!check(&draft, &facts()).quotes_verbatim);
    draft.themes[0].quotes = vec![Quote { comment_id: 1, text: "   ".into() }];
    assert!(!check(&draft, &facts()).quotes_verbatim);
}

#[test]
fn citations_must_be_visible_comments_of_the_theme() {
    let mut draft = good();
    // A hidden comment, or another poll's, is simply not among the facts.
    draft.themes[0].quotes = vec![Quote { comment_id: 99, text: "Power is the bottleneck".into() }];
    assert!(!check(&draft, &facts()).citations_valid);
    let mut draft = good();
    draft.themes[0].members = vec![1, 99];
    assert!(!check(&draft, &facts()).citations_valid);
    // A comment from a reader of the other option.
    let mut draft = good();
    draft.themes[0].members = vec![1, 3];
    draft.themes[0].quotes = vec![Quote { comment_id: 3, text: "Money is infinite".into() }];
    let report = check(&draft, &facts());
    assert!(!report.citations_valid, "{:?}", report.problems);
    // A real comment of the poll, but not one of the theme's.
    let mut draft = good();
    draft.themes[0].quotes = vec![Quote { comment_id: 4, text: "H100 prices".into() }];
    assert!(!check(&draft, &facts()).citations_valid);
}

#[test]
fn numbers_must_be_computed_ones() {
    let wrong = |overview: &str| {
        let mut draft = good();
        draft.overview = overview.into();
        check(&draft, &facts())
    };
    assert!(wrong("75.0% of 8 voters expect a stall; 50% of comments blame power.").passed());
    assert!(!wrong("76% of voters expect a stall.").numbers_match, "wrong percent");
    assert!(!wrong("About 10 readers blame power.").numbers_match, "rounded count");
    assert!(!wrong("75 of voters expect a stall.").numbers_match, "a percent written as a count");
    assert!(!wrong("Readers expect growth to stall by 2027.").numbers_match, "a year is no statistic");
    // Names with digits are not figures.
    assert!(wrong("Cheaper H100s and GPT-4 class models keep 2 readers hopeful.").passed());

    let mut draft = good();
    draft.themes[0].comment_count = 3;
    assert!(!check(&draft, &facts()).numbers_match);
    let mut draft = good();
    draft.themes[0].share = 0.6;
    assert!(!check(&draft, &facts()).numbers_match);
    let mut draft = good();
    draft.themes[0].title = "Two in 3 blame power".into();
    assert!(!check(&draft, &facts()).numbers_match);
}

#[test]
fn numbers_are_read_as_written() {
    let values: Vec<(i64, bool)> = numbers_in("1,234 votes, 12.5%, 7 per cent, H100, GPT-4, 3D, v2.0x")
        .iter()
        .map(|n| (n.thousandths, n.percent))
        .collect();
    assert_eq!(values, [(1_234_000, false), (12_500, true), (7_000, true)]);
}

#[test]
fn quotation_marks_in_prose_must_hold_readers_words() {
    let mut draft = good();
    draft.overview = "One reader said “the grid can't keep up”, another “Money is infinite”.".into();
    assert!(check(&draft, &facts()).passed(), "{:?}", check(&draft, &facts()).problems);
    draft.overview = "Readers said “chips are the real limit here”.".into();
    let report = check(&draft, &facts());
    assert!(!report.quotes_verbatim);
    assert!(report.problems[0].contains("no reader wrote"), "{:?}", report.problems);
    // A single quoted word is a term, not a quote.
    draft.overview = "Readers blamed “power”.".into();
    assert!(check(&draft, &facts()).passed());
}

#[test]
fn the_polls_own_names_may_be_quoted_with_their_figures() {
    let mut draft = good();
    draft.themes[0].title = "“Before 2030” voters blame power".into();
    assert!(!check(&draft, &facts()).numbers_match, "2030 is not a statistic");
    let named = facts().with_names(["Will compute double before 2030?", "Before 2030"]);
    assert!(check(&draft, &named).passed(), "{:?}", check(&draft, &named).problems);
}

#[test]
fn titles_and_overviews_with_markup_fail_and_plain_signs_pass() {
    let mut draft = good();
    draft.overview =
        "Readers said it </textarea><meta http-equiv=\"refresh\" content=\"0;url=https://x.example\">".into();
    let report = check(&draft, &facts());
    assert!(!report.plain_text && !report.passed(), "{report:?}");
    assert!(report.problems.iter().any(|p| p.contains("the overview holds markup")), "{:?}", report.problems);
    let mut draft = good();
    draft.themes[0].title = "Power <b>wins</b>".into();
    assert!(!check(&draft, &facts()).plain_text);
    draft.themes[0].title = "Power &amp; chips".into();
    assert!(!check(&draft, &facts()).plain_text, "an entity is markup too");
    // A lone "<" or "&" is prose.
    draft.themes[0].title = "Power & chips matter < money".into();
    assert!(check(&draft, &facts()).plain_text, "{:?}", check(&draft, &facts()).problems);
}

#[test]
fn the_polls_own_names_are_neither_quotes_nor_markup_of_the_summary() {
    let label = "Yes </textarea><b>x</b> \"><img src=x>";
    let mut draft = good();
    draft.overview = format!("“{label}”: readers blamed power.");
    let named = facts().with_names([label]);
    assert!(check(&draft, &named).passed(), "{:?}", check(&draft, &named).problems);
    // Without the name it is markup (and a quote no reader wrote).
    let report = check(&draft, &facts());
    assert!(!report.plain_text && !report.quotes_verbatim, "{report:?}");
}
