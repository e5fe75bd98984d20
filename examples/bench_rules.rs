//! Benchmark of the content rules: 10,000 banned plus 10,000 suspect entries (generated
//! German-like words, some with `*`), links on `premod` with an allowlist, and `check` timed on
//! typical comments of about 300 characters, a fifth of them with a hit (some obfuscated).
//!
//! `cargo run --release --example bench_rules [-- ROUNDS]`

use std::time::{Duration, Instant};

use comment_service::domain::states::LinkPolicy;
use comment_service::moderation::{CompiledRules, Rules, Verdict};

/// A small deterministic generator (xorshift64*), so every run checks the same texts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ONSETS: &[&str] = &[
    "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w", "z", "sch", "st", "schl",
    "kr", "br", "gr", "tr", "pf", "kl", "fl", "sp", "ch", "v",
];
const VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "ä", "ö", "ü", "ei", "au", "ie", "eu",
];
const CODAS: &[&str] = &[
    "", "", "n", "r", "l", "s", "t", "ch", "ck", "ng", "rt", "nd", "st", "tz", "ß", "m",
];

fn word(rng: &mut Rng) -> String {
    let syllables = 2 + rng.below(3);
    (0..syllables)
        .map(|_| {
            format!(
                "{}{}{}",
                rng.pick(ONSETS),
                rng.pick(VOWELS),
                rng.pick(CODAS)
            )
        })
        .collect()
}

fn entries(rng: &mut Rng, n: usize) -> Vec<String> {
    let mut out: Vec<String> = (0..n)
        .map(|i| match i % 20 {
            0 => format!("*{}*", word(rng)),
            1 => format!("{}*", word(rng)),
            _ => word(rng),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

const SENTENCES: &[&str] = &[
    "Der Artikel bringt es auf den Punkt, danke für die gründliche Recherche.",
    "Ich sehe das anders: Die Stadt hat seit Jahren zu wenig in den Nahverkehr investiert.",
    "Wer soll das bezahlen? Die Mieten in Wien steigen schneller als die Löhne.",
    "Eine sachliche Analyse wäre hilfreicher als diese Schlagzeile.",
    "Mein Therapeut sagt, man soll sich über Politik nicht so aufregen.",
    "Das Spiel gestern war stark, 4:5 nach Verlängerung, unglaublich!",
    "Die Klassenarbeit meiner Tochter war auch ein Thema beim Elternabend.",
    "Quelle: https://www.krone.at/3012345 – dort steht es ausführlicher.",
    "Ausländer, Inländer, egal: Am Ende zahlen wir alle dieselben Steuern.",
    "Im Grasland rund um den Neusiedler See ist es dieses Jahr sehr trocken.",
    "Schon wieder Baustelle auf der Südosttangente, seit Wochen Stau.",
    "Danke an die Redaktion für die Richtigstellung im zweiten Absatz.",
    "Hat jemand die Zahlen aus dem Bericht des Rechnungshofs gelesen?",
    "Straßenbahn, U-Bahn und Bus: Das Netz ist gut, aber abends zu selten.",
];

/// A comment and the outcome it should get (0 publish, 1 held, 2 rejected).
fn comment(rng: &mut Rng, banned: &[String], suspect: &[String]) -> (String, usize) {
    let mut text = String::new();
    while text.chars().count() < 300 {
        text.push_str(rng.pick(SENTENCES));
        text.push(' ');
    }
    let hit = |list: &[String], rng: &mut Rng| list[rng.below(list.len())].replace('*', "");
    let expected = match rng.below(10) {
        0 => {
            let w = hit(banned, rng);
            text.push_str(&format!("Du {w}!"));
            2
        }
        1 => {
            // Spelled out with dots: `I.d.i.o.t`.
            let w = hit(suspect, rng);
            let dotted: Vec<String> = w.chars().map(String::from).collect();
            text.push_str(&format!("So ein {}.", dotted.join(".")));
            1
        }
        _ => 0,
    };
    (text, expected)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let banned = entries(&mut rng, 10_000);
    let suspect = entries(&mut rng, 10_000);
    let rules = Rules {
        banned_words: banned.clone(),
        suspect_words: suspect.clone(),
        links: LinkPolicy::Premod,
        link_allowlist: vec!["krone.at".into(), "orf.at".into()],
        ..Rules::default()
    };
    let started = Instant::now();
    let compiled = CompiledRules::new(rules).expect("generated rules are valid");
    let compile_time = started.elapsed();

    let (comments, expected): (Vec<String>, Vec<usize>) = (0..1_000)
        .map(|_| comment(&mut rng, &banned, &suspect))
        .unzip();
    let mean_len = comments.iter().map(|c| c.chars().count()).sum::<usize>() / comments.len();

    // Warm up, then time each check on its own.
    let mut outcomes = [0usize; 3];
    let mut unexpected = 0;
    for (c, want) in comments.iter().zip(&expected) {
        let got = match compiled.check(c) {
            Verdict::Publish => 0,
            Verdict::Hold(_) => 1,
            Verdict::Reject(_) => 2,
        };
        outcomes[got] += 1;
        unexpected += usize::from(got != *want);
    }
    let mut times: Vec<Duration> = Vec::with_capacity(rounds * comments.len());
    for _ in 0..rounds {
        for c in &comments {
            let started = Instant::now();
            let verdict = compiled.check(c);
            times.push(started.elapsed());
            std::hint::black_box(verdict);
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "rules: {} banned + {} suspect entries, links premod with an allowlist; compiled in {:.0} ms",
        banned.len(),
        suspect.len(),
        compile_time.as_secs_f64() * 1e3
    );
    println!(
        "comments: {} of {mean_len} characters on average: {} publish, {} held, {} rejected \
         ({unexpected} not as generated)",
        comments.len(),
        outcomes[0],
        outcomes[1],
        outcomes[2]
    );
    println!(
        "check: {} runs, median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        times.len(),
        micros(at(0.5)),
        micros(at(0.99)),
        micros(at(1.0))
    );
}
