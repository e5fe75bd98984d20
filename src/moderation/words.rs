//! Word lists that see through obfuscation.
//!
//! A [`WordMatcher`] is compiled once from a list of entries (banned or suspect words) and then
//! finds, in any text, the entries it contains as whole words. Readers who want to get past a word
//! list type `I.d.i.o.t`, `1d10t`, `Іdiоt` (Cyrillic letters), `Ｉｄｉｏｔ` (fullwidth) or
//! `Idiooot`; all of those match the entry `idiot`. German words that merely contain an entry
//! (`Analyse` for `anal`, `Therapist` for `rapist`, `Klassenarbeit` for `ass`) do not.
//!
//! # How a text is normalised
//!
//! Text and entries go through the same [`Normalized::new`], which turns them into a *stream* of
//! folded letters plus a record of what separated each letter from the one before it:
//!
//! 1. **Characters fold one by one** (after Unicode NFKC, which turns fullwidth and mathematical
//!    letters into plain ones): ASCII letters lower-case; `ä ö ü ß` (either case) become `ae oe ue
//!    ss`, so the German spellings `Auslaender` and `Ausländer` meet; other letters lose their
//!    diacritics (canonical decomposition, marks dropped); letters that are still not ASCII go
//!    through `decancer`'s homoglyph table (Cyrillic `і о а е р с`, Greek `ο ι α ε ρ κ`, letter-like
//!    CJK and so on). The umlauts are folded *before* decancer because decancer would turn `ß`
//!    into `b` and `ä` into `a`. Only letters go through decancer: it also maps emoji and currency
//!    signs to letters (`😀` → `o`), which would glue `Idiot😀` into one word. Combining marks
//!    (Zalgo, strike-through) and invisible format characters (soft hyphen, zero-width space)
//!    vanish without a trace; every other character is a separator (whitespace, or punctuation).
//! 2. **Chunks:** the letters and digits between separators form chunks. Between two chunks lies
//!    a *gap* of one of four kinds:
//!    - *spaced*: both chunks are a single character (`I d i o t`, `I.d.i.o.t`, `I-d-i-o-t`): the
//!      reader spelled one word out letter by letter, so the gap is inside a word;
//!    - *soft*: punctuation without whitespace between longer chunks (`Idi-ot`, `Idiot-Kommentar`):
//!      a word boundary, yet a match may also run across it;
//!    - *loose*: whitespace next to a single character (`Id i o t`): a word boundary that a match
//!      may run across;
//!    - *hard*: whitespace between two longer chunks: a real word boundary that no match crosses
//!      (`an alyse` never becomes `analyse`), unless the entry itself has a separator there
//!      (entries may be phrases: `dumme kuh`).
//! 3. **Digits for letters** (`0→o 1→i 3→e 4→a 5→s 7→t @→a $→s`) are read as letters only in a
//!    word that has a real letter (`1d10t`, `I d 1 o t`); a plain number (`45`, the score `4:5`)
//!    stays a number, so it never matches `ass`.
//! 4. **Repeated letters** collapse into one letter with a count (`Idiooot` → `idiot` with `o`×3),
//!    in the text and in the entries alike, within a word and across spaced gaps. An entry
//!    matches where the text has *at least* as many of each letter as the entry: `Idiooot`
//!    matches `idiot`, `Strasse` and `Straße` match `straße`, but `as` does not match `ass` and a
//!    lone `S` does not match `ss`.
//!
//! # How entries match
//!
//! All entries of a list go into one Aho-Corasick automaton over the collapsed letter streams;
//! the text's stream is scanned once for all overlapping hits, and each hit is accepted when:
//! it starts at a word boundary (the stream's start, a soft, loose or hard gap) unless the entry
//! starts with `*`; it ends at one unless the entry ends with `*`; no hard gap lies inside it
//! except where the entry has a separator; and the letter counts are at least the entry's.
//! Cost: linear in the text plus the hits, independent of the number of entries.
//!
//! Known limits: a word split by a plain space into longer parts (`Idi ot`) is two words, as
//! it is for any reader; a word made of symbols only (`@$$`) is not read as letters; `1` is
//! read as `i`, never as `l`.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// The longest entry, in characters.
pub const MAX_ENTRY_CHARS: usize = 100;

/// What separates a letter of the stream from the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gap {
    /// The start or end of the text.
    Edge,
    /// Nothing: the same chunk.
    Join,
    /// A separator between two single characters: inside a spelled-out word.
    Spaced,
    /// Punctuation only, between chunks not both single.
    Soft,
    /// Whitespace next to a single character.
    Loose,
    /// Whitespace between two longer chunks.
    Hard,
}

impl Gap {
    fn is_word_boundary(self) -> bool {
        matches!(self, Gap::Edge | Gap::Soft | Gap::Loose | Gap::Hard)
    }

    /// Between two chunks: `single_*` says whether each is a single character.
    fn between(whitespace: bool, single_before: bool, single_after: bool) -> Gap {
        match (single_before, single_after, whitespace) {
            (true, true, _) => Gap::Spaced,
            (_, _, false) => Gap::Soft,
            (true, _, true) | (_, true, true) => Gap::Loose,
            _ => Gap::Hard,
        }
    }
}

/// A text as the matcher sees it: folded, collapsed letters and the gaps between them.
#[derive(Clone, Debug)]
pub struct Normalized {
    /// Collapsed stream: `a-z`, digits, and `@`/`$` of words without letters.
    letters: Vec<u8>,
    /// How often each letter of `letters` stood there in a row.
    runs: Vec<u16>,
    /// `gaps[i]` lies before `letters[i]`; `gaps[letters.len()]` is the end.
    gaps: Vec<Gap>,
}

/// One chunk of folded characters between separators.
struct Chunk {
    start: usize,
    end: usize,
    /// How many source characters produced it (`ä` is one, though it folds to `ae`).
    sources: u32,
    whitespace_before: bool,
}

impl Chunk {
    fn is_single(&self) -> bool {
        self.sources == 1
    }
}

/// What one character of the text is to the matcher.
enum Folded {
    Letters(FoldedLetters),
    Invisible,
    Whitespace,
    Punctuation,
}

/// Up to three folded ASCII bytes (decancer's longest outputs for letters are short; longer ones
/// are cut, which only loses precision on exotic ligatures).
struct FoldedLetters {
    bytes: [u8; 3],
    len: u8,
}

impl FoldedLetters {
    fn one(b: u8) -> FoldedLetters {
        FoldedLetters {
            bytes: [b, 0, 0],
            len: 1,
        }
    }

    fn two(s: &[u8; 2]) -> FoldedLetters {
        FoldedLetters {
            bytes: [s[0], s[1], 0],
            len: 2,
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// Characters that render as nothing and are used to split words invisibly.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

fn fold(c: char) -> Folded {
    if c.is_ascii() {
        return match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' => {
                Folded::Letters(FoldedLetters::one(c.to_ascii_lowercase() as u8))
            }
            '@' | '$' => Folded::Letters(FoldedLetters::one(c as u8)),
            c if c.is_ascii_whitespace() => Folded::Whitespace,
            _ => Folded::Punctuation,
        };
    }
    match c {
        'ä' | 'Ä' => return Folded::Letters(FoldedLetters::two(b"ae")),
        'ö' | 'Ö' => return Folded::Letters(FoldedLetters::two(b"oe")),
        'ü' | 'Ü' => return Folded::Letters(FoldedLetters::two(b"ue")),
        'ß' | 'ẞ' => return Folded::Letters(FoldedLetters::two(b"ss")),
        _ => {}
    }
    if is_combining_mark(c) || is_invisible(c) {
        return Folded::Invisible;
    }
    if c.is_whitespace() {
        return Folded::Whitespace;
    }
    if !c.is_alphabetic() {
        return Folded::Punctuation;
    }
    let mut base = None;
    decompose_canonical(c, |d| {
        base.get_or_insert(d);
    });
    if let Some(b) = base.filter(char::is_ascii_alphanumeric) {
        return Folded::Letters(FoldedLetters::one(b.to_ascii_lowercase() as u8));
    }
    let mut out = FoldedLetters {
        bytes: [0; 3],
        len: 0,
    };
    let mut push = |ch: char| {
        if ch.is_ascii_alphanumeric() && (out.len as usize) < out.bytes.len() {
            out.bytes[out.len as usize] = ch.to_ascii_lowercase() as u8;
            out.len += 1;
        }
    };
    match decancer::cure_char(c, decancer::Options::default()) {
        decancer::Translation::Character(ch) => push(ch),
        decancer::Translation::String(s) => s.chars().for_each(push),
        decancer::Translation::None => return Folded::Invisible,
    }
    if out.len == 0 {
        Folded::Punctuation
    } else {
        Folded::Letters(out)
    }
}

fn leet(b: u8) -> u8 {
    match b {
        b'0' => b'o',
        b'1' => b'i',
        b'3' => b'e',
        b'4' => b'a',
        b'5' => b's',
        b'7' => b't',
        b'@' => b'a',
        b'$' => b's',
        other => other,
    }
}

impl Normalized {
    /// Folds a text (or an entry) into its stream; see the module docs.
    pub fn new(text: &str) -> Normalized {
        // ASCII and most German text are NFKC already; the quick check spares the normaliser.
        let (raw, chunks) = if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
            chunk(text.chars())
        } else {
            chunk(text.nfkc())
        };
        // Which chunks read digits as letters: a run of single characters is one word, and so is
        // every longer chunk; it does when it holds a real letter.
        let mut leet_chunk = vec![false; chunks.len()];
        let mut i = 0;
        while i < chunks.len() {
            let mut j = i + 1;
            if chunks[i].is_single() {
                while j < chunks.len() && chunks[j].is_single() {
                    j += 1;
                }
            }
            let has_letter = chunks[i..j]
                .iter()
                .any(|c| raw[c.start..c.end].iter().any(u8::is_ascii_lowercase));
            leet_chunk[i..j].fill(has_letter);
            i = j;
        }

        let mut out = Normalized {
            letters: Vec::with_capacity(raw.len()),
            runs: Vec::with_capacity(raw.len()),
            gaps: Vec::with_capacity(raw.len() + 1),
        };
        for (k, c) in chunks.iter().enumerate() {
            let first_gap = if k == 0 {
                Gap::Edge
            } else {
                Gap::between(
                    c.whitespace_before,
                    chunks[k - 1].is_single(),
                    c.is_single(),
                )
            };
            for (n, &b) in raw[c.start..c.end].iter().enumerate() {
                let b = if leet_chunk[k] { leet(b) } else { b };
                let gap = if n == 0 { first_gap } else { Gap::Join };
                let repeats = matches!(gap, Gap::Join | Gap::Spaced)
                    && b.is_ascii_lowercase()
                    && out.letters.last() == Some(&b);
                match out.runs.last_mut() {
                    Some(run) if repeats => *run = run.saturating_add(1),
                    _ => {
                        out.letters.push(b);
                        out.runs.push(1);
                        out.gaps.push(gap);
                    }
                }
            }
        }
        out.gaps.push(Gap::Edge);
        out
    }

    /// The collapsed letters (for tests and debugging).
    pub fn letters(&self) -> &str {
        // Only ASCII bytes are ever pushed.
        std::str::from_utf8(&self.letters).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.letters.is_empty()
    }
}

fn chunk(chars: impl Iterator<Item = char>) -> (Vec<u8>, Vec<Chunk>) {
    let mut raw = Vec::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut open = false;
    let mut whitespace = false;
    for c in chars {
        match fold(c) {
            Folded::Letters(letters) => {
                if !open {
                    chunks.push(Chunk {
                        start: raw.len(),
                        end: raw.len(),
                        sources: 0,
                        whitespace_before: whitespace,
                    });
                    open = true;
                    whitespace = false;
                }
                raw.extend_from_slice(letters.as_slice());
                if let Some(last) = chunks.last_mut() {
                    last.end = raw.len();
                    last.sources += 1;
                }
            }
            Folded::Invisible => {}
            Folded::Whitespace => {
                open = false;
                whitespace = true;
            }
            Folded::Punctuation => open = false,
        }
    }
    (raw, chunks)
}

/// Why an entry cannot be part of a word list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_ENTRY_CHARS} characters")]
    TooLong,
    #[error("`*` may only stand at the start or the end")]
    InnerStar,
    #[error("must contain a letter or a digit")]
    NoLetters,
}

/// One entry as the automaton checks it.
#[derive(Clone, Debug)]
struct Variant {
    entry: u32,
    runs: Box<[u16]>,
    /// Offsets in the collapsed entry where it has a separator (a phrase's word boundaries).
    breaks: Box<[u16]>,
    any_prefix: bool,
    any_suffix: bool,
}

/// An entry split into its wildcard flags and its word; checks the entry's syntax.
pub fn parse_entry(raw: &str) -> Result<(bool, &str, bool), EntryError> {
    let entry = raw.trim();
    if entry.is_empty() {
        return Err(EntryError::Empty);
    }
    if entry.chars().count() > MAX_ENTRY_CHARS {
        return Err(EntryError::TooLong);
    }
    let (any_prefix, rest) = match entry.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, entry),
    };
    let (any_suffix, word) = match rest.strip_suffix('*') {
        Some(word) => (true, word),
        None => (false, rest),
    };
    if word.contains('*') {
        return Err(EntryError::InnerStar);
    }
    if Normalized::new(word).is_empty() {
        return Err(EntryError::NoLetters);
    }
    Ok((any_prefix, word, any_suffix))
}

/// A compiled word list; cheap to share (`Send + Sync`), built once per rules version.
#[derive(Clone, Debug, Default)]
pub struct WordMatcher {
    automaton: Option<AhoCorasick>,
    /// Per automaton pattern, the entries that normalise to it.
    variants: Vec<Vec<Variant>>,
    entries: Vec<String>,
}

impl WordMatcher {
    /// Compiles the entries; the first bad one is reported with its index.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<WordMatcher, (usize, EntryError)> {
        let mut pattern_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut variants: Vec<Vec<Variant>> = Vec::new();
        for (index, raw) in entries.iter().enumerate() {
            let (any_prefix, word, any_suffix) =
                parse_entry(raw.as_ref()).map_err(|e| (index, e))?;
            let normalized = Normalized::new(word);
            let breaks = normalized.gaps[1..normalized.letters.len()]
                .iter()
                .enumerate()
                .filter(|(_, g)| g.is_word_boundary())
                .map(|(k, _)| (k + 1) as u16)
                .collect();
            let variant = Variant {
                entry: index as u32,
                runs: normalized.runs.into_boxed_slice(),
                breaks,
                any_prefix,
                any_suffix,
            };
            let id = *pattern_of
                .entry(normalized.letters.clone())
                .or_insert_with(|| {
                    patterns.push(normalized.letters);
                    variants.push(Vec::new());
                    patterns.len() - 1
                });
            variants[id].push(variant);
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(|_| (0, EntryError::TooLong))?,
            )
        };
        Ok(WordMatcher {
            automaton,
            variants,
            entries: entries
                .iter()
                .map(|e| e.as_ref().trim().to_string())
                .collect(),
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `index`, as it was given (trimmed).
    pub fn entry(&self, index: usize) -> &str {
        &self.entries[index]
    }

    /// The indexes of the entries the text contains, ascending, each once.
    pub fn find(&self, text: &Normalized) -> Vec<usize> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for hit in automaton.find_overlapping_iter(&text.letters[..]) {
            for v in &self.variants[hit.pattern().as_usize()] {
                if accepts(text, v, hit.start(), hit.end()) {
                    found.push(v.entry as usize);
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The entries a raw text contains, as given.
    pub fn matches(&self, text: &str) -> Vec<&str> {
        self.find(&Normalized::new(text))
            .into_iter()
            .map(|i| self.entry(i))
            .collect()
    }
}

fn accepts(text: &Normalized, v: &Variant, start: usize, end: usize) -> bool {
    if !v.any_prefix && !text.gaps[start].is_word_boundary() {
        return false;
    }
    if !v.any_suffix && !text.gaps[end].is_word_boundary() {
        return false;
    }
    let inside_ok = (start + 1..end)
        .all(|i| text.gaps[i] != Gap::Hard || v.breaks.contains(&((i - start) as u16)));
    inside_ok
        && text.runs[start..end]
            .iter()
            .zip(v.runs.iter())
            .all(|(have, need)| have >= need)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(entries: &[&str]) -> WordMatcher {
        WordMatcher::new(entries).unwrap()
    }

    #[test]
    fn the_stream_folds_case_umlauts_leet_and_repeats() {
        let cases = [
            ("Idiot", "idiot"),
            ("I.d.i.o.t", "idiot"),
            ("1d10t", "idiot"),
            ("Idiooot", "idiot"),
            ("Ausländer", "auslaender"),
            ("Straße", "strase"),
            ("Ｉｄｉｏｔ", "idiot"),
            ("Іdiоt", "idiot"),
            ("Es steht 4:5", "essteht45"),
            ("I\u{00AD}di\u{200B}ot", "idiot"),
            ("I̶d̶i̶o̶t̶", "idiot"),
            ("Café", "cafe"),
        ];
        for (text, stream) in cases {
            assert_eq!(Normalized::new(text).letters(), stream, "{text}");
        }
    }

    /// `(entries, text, expected matches)`: the table the contract's rules are checked against.
    const CASES: &[(&str, &str, &[&str])] = &[
        // Plain and case.
        ("idiot", "Du bist ein Idiot.", &["idiot"]),
        ("idiot", "IDIOT!", &["idiot"]),
        ("idiot", "idiot", &["idiot"]),
        ("idiot", "Was für ein idiot, echt.", &["idiot"]),
        // Separators inside a word.
        ("idiot", "Du I.d.i.o.t", &["idiot"]),
        ("idiot", "Du I d i o t", &["idiot"]),
        ("idiot", "Du I-d-i-o-t", &["idiot"]),
        ("idiot", "Du I_d_i_o_t!", &["idiot"]),
        ("idiot", "Du I. d. i. o. t.", &["idiot"]),
        ("idiot", "Du Id i o t", &["idiot"]),
        ("idiot", "Du Idi-ot", &["idiot"]),
        ("idiot", "Du Idi.ot", &["idiot"]),
        ("idiot", "Du I\u{200B}diot", &["idiot"]),
        ("idiot", "Du Idi\u{00AD}ot", &["idiot"]),
        // Digits and signs for letters.
        ("idiot", "Du 1d10t", &["idiot"]),
        ("idiot", "Du 1D10T", &["idiot"]),
        ("idiot", "Du 1 d 1 0 t", &["idiot"]),
        ("arsch", "Du @rsch", &["arsch"]),
        ("arsch", "Du Ar$ch", &["arsch"]),
        ("schlampe", "5chl4mp3", &["schlampe"]),
        ("ass", "Du @$$", &[]),
        // Repeated letters.
        ("idiot", "Idiooooot", &["idiot"]),
        ("idiot", "IIIdddiiiooottt", &["idiot"]),
        ("idiot", "I d i o o o t", &["idiot"]),
        ("ass", "Er hat ein As im Ärmel", &[]),
        ("ass", "Ein Ass im Ärmel", &["ass"]),
        ("ass", "Asssss", &["ass"]),
        ("ss", "S-Bahn", &[]),
        ("ss", "Die SS", &["ss"]),
        ("straße", "Strasse", &["straße"]),
        ("straße", "Strase", &[]),
        // Case, diacritics, compatibility forms, homoglyphs.
        ("idiot", "Ｉｄｉｏｔ", &["idiot"]),
        ("idiot", "𝐈𝐝𝐢𝐨𝐭", &["idiot"]),
        ("idiot", "Іdiоt", &["idiot"]),
        ("idiot", "ΙDΙΟΤ", &["idiot"]),
        ("idiot", "Ídíòt", &["idiot"]),
        ("idiot", "I̶d̶i̶o̶t̶", &["idiot"]),
        ("idiot", "ⓘⓓⓘⓞⓣ", &["idiot"]),
        ("pack", "Расk", &["pack"]),
        // German umlaut spellings.
        ("ausländer", "Auslaender raus", &["ausländer"]),
        ("ausländer", "AUSLÄNDER", &["ausländer"]),
        ("auslaender", "Ausländer", &["auslaender"]),
        ("ausland", "Ausländer", &[]),
        ("ausland", "im Ausland", &["ausland"]),
        ("schwul", "Heute ist es schwül", &[]),
        // Whole words only, unless `*`.
        ("anal", "Eine Analyse der Lage", &[]),
        ("anal", "an alyse", &[]),
        ("anal", "Anal", &["anal"]),
        ("rapist", "Der Therapist sagt", &[]),
        ("rapist", "the rapist", &["rapist"]),
        ("schlacht", "Der Schlachtplan", &[]),
        ("gras", "Grasland", &[]),
        ("ass", "Die Klassenarbeit", &[]),
        ("ass", "Klasse", &[]),
        ("cunt", "Scunthorpe United", &[]),
        ("hure", "Churer Rheintal", &[]),
        ("nazi", "Panazee", &[]),
        ("nazi", "Nazis", &[]),
        ("nazi*", "Nazis", &["nazi*"]),
        ("idiot", "Vollidiot", &[]),
        ("*idiot", "Vollidiot", &["*idiot"]),
        ("*idiot*", "Vollidioten", &["*idiot*"]),
        ("*idiot", "Vollidioten", &[]),
        ("idiot*", "Idioten", &["idiot*"]),
        ("*idiot*", "Voll I d i o t e n", &["*idiot*"]),
        ("*anal*", "Bahn alles", &[]),
        ("idiot", "Idiot-Kommentar", &["idiot"]),
        ("idiot", "Idioten", &[]),
        // Phrases.
        ("dumme kuh", "Du dumme Kuh!", &["dumme kuh"]),
        ("dumme kuh", "dumme-kuh", &["dumme kuh"]),
        ("dumme kuh", "dumme Kühe", &[]),
        // Numbers stay numbers.
        ("ass", "Es steht 4:5", &[]),
        ("ass", "Er hat 45 Kommentare", &[]),
        ("88", "Gruß 88", &["88"]),
        ("88", "8 Uhr", &[]),
        ("88", "888", &[]),
        // Several entries, reported as given.
        (
            "idiot,depp,trottel",
            "Du Depp, du 1d10t",
            &["idiot", "depp"],
        ),
        ("Idiot", "idiot", &["Idiot"]),
        ("idiot, Idiot", "idiot", &["idiot", "Idiot"]),
        // Emoji next to a word leave the word alone.
        ("idiot", "Idiot😀", &["idiot"]),
        ("idiot", "Idi😀ot", &["idiot"]),
        // Innocent texts.
        ("idiot", "Guten Morgen, liebe Redaktion!", &[]),
        ("idiot", "", &[]),
    ];

    #[test]
    fn the_contract_table_of_obfuscations_and_innocent_words() {
        assert!(CASES.len() >= 60);
        let mut failures = Vec::new();
        for (entries, text, expected) in CASES {
            let entries: Vec<&str> = entries.split(',').map(str::trim).collect();
            let m = matcher(&entries);
            let got = m.matches(text);
            if got != *expected {
                failures.push(format!(
                    "{entries:?} in {text:?}: got {got:?}, want {expected:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn bad_entries_are_refused_with_their_index() {
        let long = "x".repeat(101);
        let cases: &[(&[&str], usize, EntryError)] = &[
            (&["ok", "id*ot"], 1, EntryError::InnerStar),
            (&["  "], 0, EntryError::Empty),
            (&["*"], 0, EntryError::NoLetters),
            (&["**x"], 0, EntryError::InnerStar),
            (&["..."], 0, EntryError::NoLetters),
            (&[long.as_str()], 0, EntryError::TooLong),
        ];
        for (entries, index, error) in cases {
            assert_eq!(
                WordMatcher::new(entries).unwrap_err(),
                (*index, error.clone()),
                "{entries:?}"
            );
        }
    }

    #[test]
    fn any_text_normalises_and_matches_without_panicking() {
        let pieces = [
            "",
            " ",
            ".",
            "a",
            "ä",
            "ß",
            "\u{301}",
            "\u{200B}",
            "1",
            "@",
            "$",
            "😀",
            "Ι",
            "ｉ",
            "ﬁ",
            "Ⅻ",
            "㎏",
            "\u{FDFA}",
            "ǅ",
            "\n",
            "-",
            "I",
            "d",
            "o",
            "t",
            "乇",
            "\u{E0041}",
        ];
        let m = matcher(&["idiot", "*a*", "a b", "ss", "88", "@$$"]);
        let mut seed = 7u64;
        for _ in 0..5_000 {
            let mut text = String::new();
            for _ in 0..12 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let normalized = Normalized::new(&text);
            assert_eq!(normalized.gaps.len(), normalized.letters.len() + 1);
            m.find(&normalized);
        }
    }

    #[test]
    fn an_empty_list_matches_nothing() {
        let m = WordMatcher::new::<&str>(&[]).unwrap();
        assert!(m.is_empty());
        assert!(m.matches("Idiot").is_empty());
    }
}
