//! Throughput of the enrichment hot path: sentiment, language id, listening queries.
//!
//! `cargo bench --bench sentiment` reports texts/s (criterion's "elem/s"). The texts are
//! generated here from templates we wrote (tweet-like, ~100 chars, complaints, praise,
//! chatter, emoji, mentions, URLs, other languages). When `../shared/data` is present the
//! tweeteval test texts are read at run time as a second, real-world mix (never embedded).
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sunward::enrich::{lang, query::QuerySet, sentiment::Analyzer};

const OPENERS: &[&str] = &[
    "@SkyJetAir",
    "@ComfyBank",
    "Hey @NordTel",
    "@QuickShip_Help",
    "",
    "",
    "Ugh",
    "Wow,",
    "RT @fan:",
    "Honestly",
];
const BODIES: &[&str] = &[
    "my flight 2241 got cancelled and nobody answers the phone",
    "been on hold for 45 minutes, still waiting for someone to pick up",
    "you charged me twice for the same order and I want a refund",
    "the app doesn't work since the last update, keeps crashing on login",
    "lost my bag in Frankfurt, no response to my emails for 3 days",
    "thanks for the quick response, the issue is sorted now",
    "LOVE the new lounge, staff were super friendly and helpful",
    "great job on the upgrade... not. everything is slower",
    "is the store on Main St open on Sunday? need to return a jacket",
    "just landed in Denver, smooth flight and the crew was amazing",
    "my package says delivered but it never arrived",
    "can't believe how good the customer service was today",
    "the wifi on the train is down again",
    "sooooo happy with my new phone, battery lasts forever",
    "what time does the sale start tomorrow",
    "worst experience ever, never flying with you again",
];
const CLOSERS: &[&str] = &[
    "",
    "!!",
    " #fail",
    " 😡",
    " 🙏",
    " :)",
    " https://t.co/x1Y2z3",
    " #travel #help",
    "?",
    " 😍😍",
    "...",
    " lol",
];
const OTHER_LANGS: &[&str] = &[
    "mi vuelo fue cancelado y nadie contesta el teléfono, qué desastre",
    "mon colis n'est jamais arrivé et le service client ne répond pas",
    "mein Paket ist immer noch nicht angekommen, das ist wirklich ärgerlich",
    "o atendimento foi ótimo, resolveram o problema em poucos minutos",
    "il volo è stato cancellato e nessuno risponde al telefono",
    "mijn pakket is nog steeds niet bezorgd en niemand reageert",
    "フライトがキャンセルされました。電話がつながりません",
    "배송이 아직 안 왔어요 고객센터는 전화를 안 받아요",
    "мой рейс отменили и никто не отвечает на звонки",
    "تم إلغاء رحلتي ولا أحد يرد على الهاتف",
    "lol ok",
];

fn generated(n: usize) -> Vec<String> {
    // A fixed LCG: the same mix on every run.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |m: usize| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as usize) % m
    };
    (0..n)
        .map(|_| {
            if next(10) == 0 {
                OTHER_LANGS[next(OTHER_LANGS.len())].to_string()
            } else {
                let o = OPENERS[next(OPENERS.len())];
                let b = BODIES[next(BODIES.len())];
                let c = CLOSERS[next(CLOSERS.len())];
                // Half the posts carry a second sentence: ~100 bytes on average, like tweets.
                let more = if next(2) == 0 {
                    format!(". {}", BODIES[next(BODIES.len())])
                } else {
                    String::new()
                };
                let mut s = format!("{o} {b}{more}{c}").trim().to_string();
                if next(8) == 0 {
                    s = s.to_uppercase();
                }
                s
            }
        })
        .collect()
}

fn shared_tweets() -> Option<Vec<String>> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/tweeteval_sentiment/test_text.txt"
    );
    let text = std::fs::read_to_string(p).ok()?;
    Some(text.lines().map(str::to_string).collect())
}

fn bench_sentiment(c: &mut Criterion) {
    let analyzer = Analyzer::new();
    let texts = generated(4096);
    let avg = texts.iter().map(String::len).sum::<usize>() / texts.len();
    let mut g = c.benchmark_group("sentiment");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function(format!("generated_{avg}B"), |b| {
        b.iter(|| {
            for t in &texts {
                black_box(analyzer.analyze(black_box(t)));
            }
        })
    });
    if let Some(real) = shared_tweets() {
        let avg = real.iter().map(String::len).sum::<usize>() / real.len().max(1);
        g.throughput(Throughput::Elements(real.len() as u64));
        g.bench_function(format!("tweeteval_test_{avg}B"), |b| {
            b.iter(|| {
                for t in &real {
                    black_box(analyzer.analyze(black_box(t)));
                }
            })
        });
    } else {
        eprintln!("../shared/data absent: skipping the tweeteval mix");
    }
    g.finish();
}

fn bench_lang(c: &mut Criterion) {
    let texts = generated(4096);
    let mut g = c.benchmark_group("lang");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("detect", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(lang::detect(black_box(t)));
            }
        })
    });
    g.bench_function("whatlang_only", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(whatlang::detect(black_box(t)));
            }
        })
    });
    if let Some(real) = shared_tweets() {
        g.throughput(Throughput::Elements(real.len() as u64));
        g.bench_function("detect_tweeteval", |b| {
            b.iter(|| {
                for t in &real {
                    black_box(lang::detect(black_box(t)));
                }
            })
        });
    }
    g.finish();
}

fn bench_query(c: &mut Criterion) {
    let texts = generated(4096);
    let mut defs: Vec<(String, String)> = vec![
        (
            "refunds".into(),
            r#"(refund OR "charged twice" OR overcharged) AND NOT test"#.into(),
        ),
        (
            "outage".into(),
            r#"(down OR outage OR "doesn't work" OR crashing) AND (app OR wifi OR site)"#.into(),
        ),
        (
            "baggage".into(),
            r#""lost my bag" OR "lost luggage" OR #lostbag"#.into(),
        ),
        ("airline".into(), "@SkyJetAir OR skyjet OR #skyjet".into()),
        (
            "praise".into(),
            "(love OR amazing OR great) NOT (not OR never)".into(),
        ),
    ];
    for i in 0..95 {
        defs.push((
            format!("brand{i}"),
            format!("(brand{i} OR @brand{i}) AND (help OR support OR \"customer service\")"),
        ));
    }
    let qs = QuerySet::new(&defs).expect("valid queries");
    let mut out = Vec::new();
    let mut g = c.benchmark_group("query");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("100_topics", |b| {
        b.iter(|| {
            for t in &texts {
                out.clear();
                qs.matches(black_box(t), &mut out);
                black_box(&out);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_sentiment, bench_lang, bench_query);
criterion_main!(benches);
