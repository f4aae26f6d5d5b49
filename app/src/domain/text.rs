//! What every text a reader or editor writes may hold: no control characters (a NUL is refused
//! by PostgreSQL, and no field needs one), and in comments no invisible characters that change
//! how the text around them displays.

/// The first control character in `text`, if any; line breaks and tabs are allowed where the
/// field is a multi-line one (`lines`).
pub fn control_character(text: &str, lines: bool) -> Option<char> {
    text.chars().find(|c| c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
}

/// The sentence for a refused text: which field, and which character (as U+XXXX, since it
/// cannot be shown).
pub fn control_problem(what: &str, c: char) -> String {
    format!("{what} holds a control character (U+{:04X}); remove it.", c as u32)
}

/// `text` without the characters that reorder or hide text on screen: bidirectional
/// embeddings, overrides, isolates and marks (a comment could show "gpj.exe" as "exe.jpg" in
/// the dashboard, the CSV and quotes), and zero-width spaces, word joiners and byte-order marks.
/// Zero-width joiners and non-joiners stay: emoji sequences and Persian and Indic spelling
/// need them, and they neither hide nor reorder anything.
pub fn without_invisibles(text: &str) -> String {
    text.chars().filter(|c| !is_invisible(*c)).collect()
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' // Arabic letter mark, left-to-right and right-to-left marks
        | '\u{202A}'..='\u{202E}' // embeddings and overrides
        | '\u{2066}'..='\u{2069}' // isolates
        | '\u{200B}' | '\u{2060}' | '\u{FEFF}' // zero-width space, word joiner, byte-order mark
        | '\u{2061}'..='\u{2064}' | '\u{180E}' // invisible operators, Mongolian vowel separator
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_and_line_breaks_allowed_only_in_multi_line_fields() {
        assert_eq!(control_character("Which\u{0}chip?", true), Some('\u{0}'));
        assert_eq!(control_character("bell\u{7}", false), Some('\u{7}'));
        assert_eq!(control_character("C1\u{85}", true), Some('\u{85}'));
        assert_eq!(control_character("two\r\nlines\tand a tab", true), None);
        assert_eq!(control_character("two\nlines", false), Some('\n'));
        assert_eq!(control_character("plain ünïcode ✓", false), None);
        assert_eq!(
            control_problem("The question", '\u{0}'),
            "The question holds a control character (U+0000); remove it."
        );
    }

    #[test]
    fn invisibles_that_reorder_or_hide_text_are_stripped_and_joiners_kept() {
        assert_eq!(without_invisibles("gpj\u{202E}exe.txt"), "gpjexe.txt");
        assert_eq!(without_invisibles("a\u{2066}b\u{2069}c\u{200F}"), "abc");
        assert_eq!(without_invisibles("free\u{200B}money\u{FEFF}\u{2060}"), "freemoney");
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(without_invisibles(family), family);
        assert_eq!(without_invisibles("می\u{200C}خواهم"), "می\u{200C}خواهم");
    }
}
