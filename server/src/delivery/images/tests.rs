use super::cache::REDRAW_AFTER;
use super::*;

#[test]
fn wraps_words_and_cuts_with_an_ellipsis() {
    assert_eq!(wrap("one two three four", 9, 3), ["one two", "three", "four"]);
    assert_eq!(wrap("one two three four", 9, 2), ["one two", "three…"]);
    assert_eq!(wrap("abcdefghijklmnop", 8, 1), ["abcdefg…"]);
}

#[test]
fn sizes_are_checked() {
    assert_eq!(Size::parse(None, None).unwrap(), Size { width: 600, height: None });
    assert_eq!(Size::parse(Some("1200"), Some("630")).unwrap(), Size { width: 1200, height: Some(630) });
    // Other sizes are rounded to the nearest preset (ties upwards): a flood of sizes is a
    // handful of images.
    assert_eq!(Size::parse(Some("1201"), Some("629")).unwrap(), Size { width: 1200, height: Some(630) });
    assert_eq!(Size::parse(Some("250"), Some("101")).unwrap(), Size { width: 300, height: Some(100) });
    assert_eq!(Size::parse(Some("2399"), None).unwrap(), Size { width: 2400, height: None });
    let sizes: std::collections::HashSet<Size> = (200..=2400)
        .step_by(7)
        .flat_map(|w| {
            (100..=2400).step_by(11).map(move |h| Size::parse(Some(&w.to_string()), Some(&h.to_string())).unwrap())
        })
        .collect();
    assert!(sizes.len() <= WIDTH_PRESETS.len() * HEIGHT_PRESETS.len(), "{}", sizes.len());
    assert!(Size::parse(Some("20000"), None).is_err());
    assert!(Size::parse(Some("-5"), None).is_err());
    assert!(Size::parse(None, Some("abc")).is_err());
}

fn picture(votes: u64) -> Picture {
    Picture {
        question: "Will it stall?".into(),
        status: PollStatus::Open,
        when: "Open until soon".into(),
        options: vec![("Yes".into(), Some((votes, 1000))), ("No".into(), Some((0, 0)))],
        total: Some(votes),
        counted: Counted::Votes,
        hidden: None,
        leaders: vec![],
    }
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_votes_redraws_at_most_once_a_second() {
    let images = Images::default();
    let size = Size { width: 600, height: None };
    let now = Utc::now();
    let first = images.get(1, picture(1), size, Format::Svg, now, [192, 0, 2, 1].into()).await.unwrap();
    for votes in 2..50 {
        let during = images.get(1, picture(votes), size, Format::Svg, now, [192, 0, 2, 1].into()).await.unwrap();
        assert_eq!(during.etag, first.etag, "redrawn within the second");
    }
    tokio::time::advance(REDRAW_AFTER).await;
    let later = images.get(1, picture(50), size, Format::Svg, now, [192, 0, 2, 1].into()).await.unwrap();
    assert_ne!(later.etag, first.etag);
    assert!(std::str::from_utf8(&later.bytes).unwrap().contains("50 votes"));
    // A change of layout (here the poll closing) is drawn at once.
    let closed = Picture { status: PollStatus::Closed, ..picture(50) };
    let at_close = images.get(1, closed, size, Format::Svg, now, [192, 0, 2, 1].into()).await.unwrap();
    assert_ne!(at_close.etag, later.etag);
    assert!(std::str::from_utf8(&at_close.bytes).unwrap().contains("FINAL RESULTS"));
}

#[test]
fn markup_in_text_is_escaped_and_the_png_renders() {
    let picture = Picture {
        question: "Is <b>this</b> & \"that\" safe?".into(),
        status: PollStatus::Open,
        when: "Open until soon".into(),
        options: vec![("Yes <i>".into(), Some((3, 750))), ("No".into(), Some((1, 250)))],
        total: Some(4),
        counted: Counted::Votes,
        hidden: None,
        leaders: vec![],
    };
    let svg = picture.svg(Size { width: 1200, height: Some(630) }, None);
    assert!(svg.contains("Is &lt;b&gt;this&lt;/b&gt; &amp; &quot;that&quot; safe?"));
    assert!(svg.contains("75.0% · 3 votes"));
    let png = png(&svg).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Width and height from the IHDR chunk.
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1200);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 630);
}

#[test]
fn a_multiple_choice_picture_counts_readers_and_says_what_the_percent_is_of() {
    let picture = Picture {
        question: "Which two?".into(),
        status: PollStatus::Open,
        when: "Open until soon".into(),
        // 20 readers, each picking up to two: the percents add up to more than 100.
        options: vec![("GPUs".into(), Some((16, 800))), ("Power".into(), Some((14, 700)))],
        total: Some(20),
        counted: Counted::Readers,
        hidden: None,
        leaders: vec![],
    };
    let svg = picture.svg(Size { width: 1200, height: Some(630) }, None);
    assert!(svg.contains("80.0% · 16 readers") && svg.contains("70.0% · 14 readers"), "{svg}");
    assert!(svg.contains("20 readers · % who picked each"), "{svg}");
    assert!(!svg.contains("votes"), "{svg}");
}

#[tokio::test]
async fn one_client_draws_one_image_at_a_time_and_others_are_not_held_up() {
    let images = Images::default();
    let now = Utc::now();
    let (stranger, reader): (std::net::IpAddr, std::net::IpAddr) = ([203, 0, 113, 9].into(), [198, 51, 100, 4].into());
    let size = |width| Size { width, height: None };
    // The stranger's first PNG is being drawn while its second asks: the second is refused,
    // a reader's own drawing goes ahead meanwhile.
    let (first, second, theirs) = tokio::join!(
        images.get(1, picture(1), size(600), Format::Png, now, stranger),
        images.get(1, picture(1), size(800), Format::Png, now, stranger),
        images.get(1, picture(1), size(1200), Format::Png, now, reader),
    );
    assert!(first.is_ok(), "{:?}", first.as_ref().err());
    assert_eq!(second.as_ref().err(), Some(&ImageError::Busy));
    assert!(theirs.is_ok(), "{:?}", theirs.as_ref().err());
    // Drawn images are served from the cache without a turn; after its drawing the stranger
    // may ask again.
    assert!(images.get(1, picture(1), size(600), Format::Png, now, stranger).await.is_ok());
    assert!(images.get(1, picture(1), size(800), Format::Png, now, stranger).await.is_ok());
}
