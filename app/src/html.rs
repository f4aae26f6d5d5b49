//! Text into HTML, for the markup written as text rather than with `view!` (the server's error
//! pages, the widget, email landing pages and blocks; the after-vote block) and for a
//! `<textarea>`'s content, which Leptos writes as it is: one escaper, used by every layer.
//!
//! Leptos escapes text everywhere except inside `textarea`, `script`, `style` and `noscript`
//! (tachys' `ESCAPE_CHILDREN`): a "</textarea>" in a reader's comment would end the field and
//! what follows would be markup on the editor's page. So every textarea's text goes through
//! [`field_text`]; the test `no_written_text_becomes_markup_on_any_page` renders every page
//! with markup in every text a reader or editor can write, and the unit test below refuses a
//! `<textarea>` in the views whose content is not `field_text(...)`.

/// `&`, `<`, `>`, `"` and `'` as entities: safe in element text and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// A `<textarea>`'s text, as a view writes it between the tags. On the server the text is
/// escaped (Leptos writes a textarea's children raw); in the browser it becomes a text node,
/// which is never markup, so it stays as it is.
pub fn field_text(text: &str) -> String {
    if cfg!(feature = "ssr") {
        escape(text)
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    /// Every `<textarea>` in the views is empty or holds `field_text(...)`: a new field cannot
    /// forget the escaping (the HTTP test renders the pages; this finds a field no test reaches).
    #[test]
    fn every_textarea_in_the_views_goes_through_field_text() {
        let mut files = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        let mut fields = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("html.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for (at, _) in source.match_indices("<textarea") {
                let rest = &source[at..];
                let open_end = rest.find('>').expect("a textarea tag ends");
                let close = rest.find("</textarea>").expect("a textarea is closed");
                let inner = rest[open_end + 1..close].trim();
                // An attribute's closure (`on:input=move |ev| ...`) may hold a `>`: the
                // content is what follows the tag's last `>` before `</textarea>`.
                let inner = inner.rsplit_once('>').map_or(inner, |(_, after)| after).trim();
                assert!(
                    inner.is_empty() || (inner.starts_with('{') && inner.contains("field_text(")),
                    "{}: a <textarea> holds {inner:?}; write its text as {{field_text(...)}}",
                    path.display()
                );
                fields += 1;
            }
        }
        assert!(fields >= 4, "found only {fields} textareas: the scan is not reading the views");
    }
}
