//! Notable models' training compute: Epoch AI, "Data on Notable AI Models" (CC BY 4.0, May
//! 2025 snapshot, models of at least 1e21 FLOP), trimmed to the columns used here.

use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/notable_models.csv");

#[derive(Debug, Clone, PartialEq)]
pub struct NotableModel {
    pub model: String,
    pub organization: String,
    pub publication_date: String,
    pub training_flop: f64,
}

/// One CSV line: commas separate fields; double quotes wrap fields that contain commas.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("a field").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("a field").push(c),
        }
    }
    out
}

fn parse(data: &str) -> Vec<NotableModel> {
    data.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .filter_map(|line| {
            let f = fields(line);
            let training_flop = f.get(3)?.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0)?;
            Some(NotableModel {
                model: f[0].clone(),
                organization: f[1].clone(),
                publication_date: f[2].clone(),
                training_flop,
            })
        })
        .collect()
}

/// Sorted by training compute, smallest first.
pub fn notable_models() -> &'static [NotableModel] {
    static MODELS: OnceLock<Vec<NotableModel>> = OnceLock::new();
    MODELS.get_or_init(|| parse(DATA))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_data_is_read() {
        let models = notable_models();
        let rows = DATA.lines().filter(|l| !l.starts_with('#')).count() - 1;
        assert_eq!(models.len(), rows);
        assert_eq!(models.len(), 224);
        assert!(models.windows(2).all(|w| w[0].training_flop <= w[1].training_flop));
        let gpt4 = models.iter().find(|m| m.model == "GPT-4").unwrap();
        assert_eq!((gpt4.organization.as_str(), gpt4.training_flop), ("OpenAI", 2.1e25));
    }

    #[test]
    fn quoted_fields_keep_their_commas() {
        assert_eq!(
            fields(r#"BigGAN,"Heriot-Watt University,DeepMind",2018,1.8e+21"#)[1],
            "Heriot-Watt University,DeepMind"
        );
        assert_eq!(fields(r#"a,"say ""hi""",c"#)[1], r#"say "hi""#);
    }
}
