//! Reference figures, each with where it comes from (`MODEL.md`).

use serde::{Deserialize, Serialize};

pub const HOURS_PER_MONTH: f64 = 730.5;
pub const HOURS_PER_YEAR: f64 = 8_766.0;
pub const H100_BF16_TFLOPS: f64 = 989.4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Chip {
    A100,
    H100,
    H200,
    B200,
}

/// What the model needs of a chip. Dense BF16 throughput, no sparsity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipSpec {
    pub name: &'static str,
    pub bf16_tflops: f64,
    pub tdp_watts: f64,
    pub price: f64,
    /// Server power ÷ chip TDP.
    pub server_power_ratio: f64,
    /// Cloud rent, $ per GPU-hour.
    pub rent_per_hour: f64,
    pub launch_year: u16,
    pub source: &'static str,
}

impl Chip {
    pub const ALL: [Chip; 4] = [Chip::A100, Chip::H100, Chip::H200, Chip::B200];

    pub fn id(self) -> &'static str {
        match self {
            Chip::A100 => "a100",
            Chip::H100 => "h100",
            Chip::H200 => "h200",
            Chip::B200 => "b200",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id().eq_ignore_ascii_case(id))
    }

    pub fn spec(self) -> ChipSpec {
        match self {
            Chip::A100 => ChipSpec {
                name: "NVIDIA A100 SXM",
                bf16_tflops: 312.0,
                tdp_watts: 400.0,
                price: 10_000.0,
                server_power_ratio: 2.03125,
                rent_per_hour: 1.29,
                launch_year: 2020,
                source: "NVIDIA A100 datasheet; $10,000 per the article ($15,000 at launch); 6.5 kW per 8-GPU server; rent $1.29/h (Lambda)",
            },
            Chip::H100 => ChipSpec {
                name: "NVIDIA H100 SXM",
                bf16_tflops: 989.4,
                tdp_watts: 700.0,
                price: 33_600.0,
                server_power_ratio: 1.8214,
                rent_per_hour: 2.45,
                launch_year: 2022,
                source: "NVIDIA H100 datasheet; $33,600 as a DGX share (2023); 10.2 kW per 8-GPU server; rent $2.45/h (2024–25 low end)",
            },
            Chip::H200 => ChipSpec {
                name: "NVIDIA H200",
                bf16_tflops: 989.5,
                tdp_watts: 700.0,
                price: 37_500.0,
                server_power_ratio: 1.8214,
                rent_per_hour: 3.0,
                launch_year: 2024,
                source: "NVIDIA H200 datasheet; $35,000–40,000 reported (midpoint used); rent $3.00/h assumed",
            },
            Chip::B200 => ChipSpec {
                name: "NVIDIA B200",
                bf16_tflops: 2_250.0,
                tdp_watts: 1_000.0,
                price: 47_400.0,
                server_power_ratio: 1.8,
                rent_per_hour: 4.5,
                launch_year: 2024,
                source: "NVIDIA B200 datasheet; $47,400 reported; server power ratio 1.8 and rent $4.50/h assumed",
            },
        }
    }
}

/// A constant the page shows with its source ("assumption receipts").
pub struct Receipt {
    pub what: &'static str,
    pub value: &'static str,
    pub source: &'static str,
}

pub const RECEIPTS: &[Receipt] = &[
    Receipt {
        what: "Starting cluster",
        value: "8,000 A100s at about $10,000 each",
        source: "AI Collision, 14 Nov 2023, quoting xAI on Grok",
    },
    Receipt {
        what: "Doubling period",
        value: "2 months",
        source: "\"more than doubling our compute every couple months\" (the article)",
    },
    Receipt {
        what: "Power usage effectiveness",
        value: "1.25",
        source: "Epoch AI training-cost code (hyperscalers 1.1; industry average 1.58, Uptime Institute 2023)",
    },
    Receipt { what: "Share of server power while training", value: "0.75", source: "Epoch AI" },
    Receipt {
        what: "Electricity",
        value: "$0.0806/kWh (US industrial, 2023)",
        source: "EIA via Epoch AI; a bitcoin miner pays about $0.04 (IREN, 2024)",
    },
    Receipt {
        what: "Full cluster cost",
        value: "servers 1.66 × chip price; networking 19% of the total",
        source: "Epoch AI",
    },
    Receipt { what: "Hardware life", value: "5 years; 730.5 hours a month", source: "Epoch AI" },
    Receipt {
        what: "Model FLOP utilisation",
        value: "0.375",
        source: "median of 33 large runs, Epoch AI (Llama 3.1 0.404, GPT-4 0.34, GPT-3 0.197)",
    },
    Receipt {
        what: "Cloud rent",
        value: "A100 $1.10–1.29/GPU-hour; H100 $2.45–4.78",
        source: "Lambda 2022–25; big clouds on demand",
    },
    Receipt {
        what: "Training compute",
        value: "≈ 6 × parameters × tokens",
        source: "Epoch AI, Data on Notable AI Models (CC BY 4.0, May 2025)",
    },
    Receipt {
        what: "Bitcoin mining",
        value: "hashprice × 1,000 ÷ J/TH × 365 per MW-year; about $1.02M",
        source: "IREN 2024 guidance",
    },
    Receipt {
        what: "AI hosting",
        value: "about $1.46M per MW-year",
        source: "Core Scientific–CoreWeave contracts, 2024",
    },
];

/// xAI's actual build-out, to hold the article's curve against.
pub struct Milestone {
    pub label: &'static str,
    /// Months after November 2023.
    pub month: f64,
    pub h100_equivalents: f64,
}

pub const XAI_TIMELINE: &[Milestone] = &[
    Milestone { label: "Grok-1: ~8,000 A100 (Nov 2023)", month: 0.0, h100_equivalents: 8_000.0 * 312.0 / 989.4 },
    Milestone { label: "Colossus: 100k H100 (Sep 2024)", month: 10.0, h100_equivalents: 100_000.0 },
    Milestone { label: "200k GPUs (Feb 2025)", month: 15.0, h100_equivalents: 200_000.0 },
    Milestone { label: "~230k GPUs (Jul 2025)", month: 20.0, h100_equivalents: 230_000.0 },
];
